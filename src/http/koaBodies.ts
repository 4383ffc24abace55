import { pipeline, Readable } from 'node:stream';

import type Koa from 'koa';

import { keepHeapTightWhile } from '../lib/leanHeap.js';

/*
 * Koa 3 tests a body against the globals `ReadableStream`, `Blob` and `Response`: an object when it is given
 * (`ctx.body = {…}`), a stream when it is sent. On Node 24 the first read of `Response` loads Node's own fetch
 * implementation (its bundled undici), which the daemon never uses: ~4 MiB more of its memory from its first
 * /healthz on (docs/dependencies.md, "Node 24: `import` of node:http"). So our JSON is given as a string and our
 * streams are piped here, as Koa would send them; Buffers and strings never reach those tests.
 */

/** Statuses whose answers carry no body: Koa ends them without one. */
const EMPTY_BODY_STATUSES = new Set([204, 205, 304]);

/** A JSON answer, as Koa would write an object body (same type, same text). */
export function setJsonBody(ctx: Koa.Context, value: object): void {
  ctx.type = 'json';
  ctx.body = JSON.stringify(value);
}

/**
 * Sends a Node stream body, as Koa's own answer would, once the middleware chain has set it; anything else is left
 * to Koa. Called by the outermost middleware. Every document the daemon serves (Telnyx's media fetch, a console
 * download) passes here, so its heap is kept tight here while a large one flows (lib/leanHeap.ts), by the length
 * the route set; a HEAD or a refused answer moves no bytes and is not.
 */
export function pipeStreamBody(ctx: Koa.Context): void {
  const body: unknown = ctx.body;
  if (ctx.respond === false || !(body instanceof Readable)) return;
  // Where Koa ends the answer without its body, it also destroys the stream once the answer is finished.
  if (!ctx.writable || ctx.method === 'HEAD' || EMPTY_BODY_STATUSES.has(ctx.status)) return;
  ctx.respond = false;
  keepHeapTightWhile(body, ctx.response.length);
  pipeline(body, ctx.res, (error) => {
    if (error && ctx.app.listenerCount('error') > 0) ctx.onerror(error);
  });
}
