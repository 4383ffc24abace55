import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import Koa from 'koa';

import { coerceError } from '../errors.js';
import { Router } from '../lib/koaRouter.js';
import { STATUS_CODES } from '../lib/nodeHttp.js';
import type { Logger } from '../log.js';
import { makeHealthHandler, makeReadyHandler, type ReadinessCheck } from './health.js';
import { pipeStreamBody, setJsonBody } from './koaBodies.js';
import type { HttpApp } from './listen.js';
import { makeRequestIds } from './requestIds.js';
import {
  makeTelnyxWebhookHandler,
  WEBHOOK_PATH,
  type WebhookDeps,
  type WebhookRequestHandler,
} from './telnyxWebhook.js';

export interface HttpDeps {
  webhook: WebhookDeps;
  /** Database, storage and mail transport checks; answers are cached 30 s by the /readyz handler. */
  ready: ReadinessCheck;
  /** GET /media/{*path}: signed links Telnyx fetches documents from (wired by the lead). */
  media?: Koa.Middleware;
  /** GET /documents/{*path}: signed links to received faxes (wired by the lead). */
  documents?: Koa.Middleware;
  /** GET /metrics: Prometheus text. */
  metrics?: Koa.Middleware;
  /** Everything under /console/: the web console (it passes other paths on). */
  console?: Koa.Middleware;
  log: Logger;
}

/** Probes arrive every few seconds; their access lines go to debug so they do not drown real traffic. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** Unmatched paths are attacker-chosen; keep their log lines bounded. */
const MAX_LOGGED_PATH_CHARS = 200;

/**
 * The whole HTTP surface in one route table, so every path the daemon serves is in view here. The signature
 * check lives inside the Telnyx route only; every other route is either a probe or carries its own
 * HMAC-signed link.
 *
 * `POST /webhooks/telnyx` is answered before Koa: it is the one route taken thousands of times a second, and
 * Koa's context, middleware chain and router were a fair share of its time. It keeps the same answers and
 * one access line; any spelling of its path the fast check does not recognise still reaches it through the
 * route table.
 */
export function makeHttpApp(deps: HttpDeps): HttpApp {
  // No AsyncLocalStorage: the per-request logger travels on ctx.state, which costs nothing per request.
  const app = new Koa({ asyncLocalStorage: false });
  // Paths are matched exactly as written: `/MEDIA/…` or `/Webhooks/telnyx` are not our routes, and a proxy rule
  // or a log filter written for the real spelling must not be sidestepped by changing its case.
  const router = new Router({ sensitive: true });
  const requestId = makeRequestIds();
  const webhook = makeTelnyxWebhookHandler(deps.webhook, {
    accessLog: deps.log.child({ component: 'http' }),
    requestId,
  });

  router.post(WEBHOOK_PATH, answeredOutsideKoa(webhook));
  router.get('/healthz', makeHealthHandler(randomUUID()));
  router.get('/readyz', makeReadyHandler(deps.ready, { log: deps.log }));
  // path-to-regexp 8 syntax: `{*path}` is a named wildcard; a bare `*` throws. See docs/dependencies.md
  // (@koa/router).
  if (deps.media) router.get('/media/{*path}', deps.media);
  if (deps.documents) router.get('/documents/{*path}', deps.documents);
  if (deps.metrics) router.get('/metrics', deps.metrics);

  app.use(makeRequestScope(deps.log, requestId));
  if (deps.console) app.use(deps.console);
  app.use(router.routes());
  app.use(router.allowedMethods());
  // Errors escaping the middleware above are already answered; this catches socket/stream errors Koa reports
  // itself, which would otherwise go to console.error.
  app.on('error', (error: unknown) => deps.log.warn({ err: coerceError(error) }, 'http stream error'));
  return {
    callback() {
      const koa = app.callback();
      return (req, res) => {
        if (!isWebhookPost(req)) return void koa(req, res);
        void answerWebhook(webhook, req, res, deps.log);
      };
    },
  };
}

/** Exactly what the route table matches for the webhook (case-sensitive, one optional trailing slash). */
function isWebhookPost(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url === undefined) return false;
  const queryAt = req.url.indexOf('?');
  const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
  return path === WEBHOOK_PATH || path === `${WEBHOOK_PATH}/`;
}

/** The webhook route in the route table: Koa steps aside, and the handler answers and logs as on its fast path. */
function answeredOutsideKoa(handler: WebhookRequestHandler): Koa.Middleware {
  return async (ctx) => {
    ctx.respond = false;
    await answerWebhook(handler, ctx.req, ctx.res, ctx.state.log as Logger);
  };
}

/** Runs the handler; a failure it did not answer itself ends the request (nothing else would answer it). */
async function answerWebhook(
  handler: WebhookRequestHandler,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): Promise<void> {
  await handler(req, res).catch((error: unknown) => {
    log.error({ err: coerceError(error) }, 'webhook answer failed');
    res.destroy();
  });
}

/**
 * Outermost middleware: gives each request a child logger, turns any thrown error into a JSON answer without
 * a stack trace, gives bare 404/405/501 a JSON body, and writes one access line. Headers and bodies are never
 * logged: they carry webhook signatures and fax numbers.
 */
function makeRequestScope(rootLog: Logger, requestId: () => string): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const log = rootLog.child({ component: 'http', reqId: requestId() });
    ctx.state.log = log;

    try {
      await next();
      // The webhook route answered by itself (answeredOutsideKoa).
      if (ctx.respond === false) return;
      if (ctx.status >= 400 && ctx.body == null) answerError(ctx, ctx.status);
    } catch (thrown) {
      const error = coerceError(thrown);
      const status = httpStatusOf(thrown);
      if (status >= 500) log.error({ err: error }, 'request failed');
      else log.warn({ err: error }, 'request refused');
      if (!ctx.headerSent) answerError(ctx, status);
    }
    pipeStreamBody(ctx);

    const fields = {
      method: ctx.method,
      path: loggablePath(ctx),
      status: ctx.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (QUIET_PATHS.has(ctx.path) && ctx.status < 400) log.debug(fields, 'http request');
    else log.info(fields, 'http request');
  };
}

/** `{error: 'method_not_allowed'}` and so on: a stable code, never the internal message. */
function answerError(ctx: Koa.Context, status: number): void {
  ctx.status = status; // explicit first, or Koa turns a body on an implicit 404 into 200
  setJsonBody(ctx, { error: (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '_') });
}

/** http-errors (ctx.throw, raw-body) carry `status`; anything else is our bug and answers 500. */
function httpStatusOf(thrown: unknown): number {
  const status = (thrown as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

/**
 * The route pattern when one matched (`/media/{*path}`), so signed link tokens in the path stay out of the
 * logs; otherwise the raw path, truncated. Never the query string, which may carry link signatures.
 */
function loggablePath(ctx: Koa.Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return ctx.path.length > MAX_LOGGED_PATH_CHARS ? `${ctx.path.slice(0, MAX_LOGGED_PATH_CHARS)}…` : ctx.path;
}
