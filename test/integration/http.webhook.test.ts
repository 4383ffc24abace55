import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

import type Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';

import { makeHttpApp } from '../../src/http/app.js';
import { makeCachedReadiness, type Readiness } from '../../src/http/health.js';
import { type HttpListener, listen } from '../../src/http/listen.js';
import type { RecordResult, TelnyxEvent, WebhookResult } from '../../src/http/telnyxWebhook.js';
import { makeSignatureVerifier } from '../../src/http/verifySignature.js';
import { MB } from '../../src/lib/units.js';
import { makeLogger } from '../../src/log.js';
import {
  makeWebhookKeyPair,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../helpers/signWebhook.js';

const NOW_SEC = 1_790_000_000;
const key = makeWebhookKeyPair(11);
const otherKey = makeWebhookKeyPair(12);

const deliveredBody = JSON.stringify({
  data: {
    record_type: 'event',
    event_type: 'fax.delivered',
    id: '95479a2e-b947-470a-a88f-2da6dd07ae0f',
    occurred_at: '2026-08-22T10:01:43.677850Z',
    payload: { fax_id: '0ccc7b54-4df3-4bca-a65a-3da1ecc777f0', status: 'delivered', to: '+13127367276' },
  },
  meta: { attempt: 1, delivered_to: 'https://bridge.example.com/webhooks/telnyx' },
});

interface Harness {
  url: string;
  recorded: TelnyxEvent[];
  followedUp: TelnyxEvent[];
  results: WebhookResult[];
  logLines: string[];
  readyCalls: () => number;
}

interface HarnessOptions {
  record?: (event: TelnyxEvent) => Promise<RecordResult>;
  afterRecord?: (event: TelnyxEvent) => void;
  ready?: { ok: boolean; checks: Record<string, string> };
  media?: Koa.Middleware;
  onLogLine?: (line: string) => void;
  maxInFlightBytes?: number;
  maxConnections?: number;
}

const listeners: HttpListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

/** Starts the real app on port 0 with a verifier whose clock is pinned to NOW_SEC. */
async function startApp(options: HarnessOptions = {}): Promise<Harness> {
  const recorded: TelnyxEvent[] = [];
  const followedUp: TelnyxEvent[] = [];
  const results: WebhookResult[] = [];
  const logLines: string[] = [];
  let readyCallCount = 0;
  const log = makeLogger(
    { level: 'debug' },
    {
      write: (line: string) => {
        logLines.push(line);
        options.onLogLine?.(line);
      },
    },
  );

  const app = makeHttpApp({
    log,
    webhook: {
      log,
      verify: makeSignatureVerifier(key.publicKeyBase64, { now: () => NOW_SEC * 1000 }),
      record:
        options.record ??
        (async (event) => {
          const duplicate = recorded.some((seen) => seen.id === event.id);
          recorded.push(event);
          return duplicate ? 'duplicate' : 'recorded';
        }),
      afterRecord: options.afterRecord ?? ((event) => void followedUp.push(event)),
      onResult: (result) => void results.push(result),
      maxInFlightBytes: options.maxInFlightBytes,
    },
    ready: async () => {
      readyCallCount += 1;
      return options.ready ?? { ok: true, checks: { database: 'ok' } };
    },
    ...(options.media ? { media: options.media } : {}),
  });
  const listener = await listen(app, { host: '127.0.0.1', port: 0, maxConnections: options.maxConnections });
  listeners.push(listener);
  return { url: listener.url, recorded, followedUp, results, logLines, readyCalls: () => readyCallCount };
}

function post(harness: Harness, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${harness.url}/webhooks/telnyx`, { method: 'POST', body, headers });
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/**
 * Sends a POST's headers (and `bodyBytes` of its body, out of `length`) over a raw socket and leaves it
 * unfinished. `answer` resolves with the status line, if the server answers at all.
 */
async function startUpload(
  url: string,
  headers: Record<string, string>,
  length: number,
  bodyBytes = 0,
): Promise<{ socket: Socket; answer: Promise<string> }> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const lines = Object.entries({ ...headers, 'content-length': String(length) }).map(
    ([name, value]) => `${name}: ${value}`,
  );
  socket.write(`POST /webhooks/telnyx HTTP/1.1\r\nhost: test\r\n${lines.join('\r\n')}\r\n\r\n`);
  if (bodyBytes > 0) socket.write(Buffer.alloc(bodyBytes, 0x20));
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) resolve(received);
    });
    socket.once('close', () => resolve(received));
  });
  return { socket, answer };
}

/** Resolves when `list` has at least `count` entries; afterRecord runs after the response, so poll briefly. */
async function waitForLength(list: unknown[], count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (list.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} entries`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('POST /webhooks/telnyx', () => {
  it('records a validly signed event once, answers 200, then runs afterRecord', async () => {
    const harness = await startApp();
    const response = await post(harness, deliveredBody, signWebhook(deliveredBody, key.secretKey, NOW_SEC));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: 'recorded' });
    expect(harness.recorded).toEqual([
      {
        id: '95479a2e-b947-470a-a88f-2da6dd07ae0f',
        eventType: 'fax.delivered',
        occurredAt: '2026-08-22T10:01:43.677850Z',
        payload: { fax_id: '0ccc7b54-4df3-4bca-a65a-3da1ecc777f0', status: 'delivered', to: '+13127367276' },
        json: deliveredBody,
      },
    ]);
    await waitForLength(harness.followedUp, 1);
    expect(harness.followedUp[0]?.id).toBe('95479a2e-b947-470a-a88f-2da6dd07ae0f');
    expect(harness.results).toEqual(['accepted']);
  });

  it('runs afterRecord only once the answer is complete', async () => {
    const order: string[] = [];
    const harness = await startApp({
      afterRecord: () => void order.push('afterRecord'),
      // The access line is written as the middleware chain unwinds, just before Koa sends the answer.
      onLogLine: (line) => void (line.includes('"msg":"http request"') && order.push('answer')),
    });
    await post(harness, deliveredBody, signWebhook(deliveredBody, key.secretKey, NOW_SEC));
    await waitForLength(order, 2);

    expect(order).toEqual(['answer', 'afterRecord']);
  });

  it('answers 200 to a duplicate but does not run afterRecord again', async () => {
    const harness = await startApp();
    const headers = signWebhook(deliveredBody, key.secretKey, NOW_SEC);
    expect((await post(harness, deliveredBody, headers)).status).toBe(200);
    const second = await post(harness, deliveredBody, headers);

    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ result: 'duplicate' });
    expect(harness.recorded).toHaveLength(2);
    // A later event's follow-up is the barrier: a follow-up of the duplicate would have come before it.
    const later = JSON.stringify({ data: { id: 'evt-later', event_type: 'fax.queued' } });
    await post(harness, later, signWebhook(later, key.secretKey, NOW_SEC));
    await waitForLength(harness.followedUp, 2);
    expect(harness.followedUp.map((event) => event.id)).toEqual([
      JSON.parse(deliveredBody).data.id,
      'evt-later',
    ]);
    expect(harness.results).toEqual(['accepted', 'duplicate', 'accepted']);
  });

  it('answers 200 to an unknown event type, with no payload', async () => {
    const harness = await startApp();
    const body = JSON.stringify({ data: { id: 'evt-x', event_type: 'fax.something.new' } });
    const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));

    expect(response.status).toBe(200);
    expect(harness.recorded).toEqual([
      {
        id: 'evt-x',
        eventType: 'fax.something.new',
        occurredAt: null,
        payload: {},
        json: body,
      },
    ]);
  });

  it('verifies over the raw bytes, so a body with an invalid UTF-8 byte is accepted', async () => {
    const harness = await startApp();
    const body = Buffer.concat([
      Buffer.from('{"data":{"id":"evt-bytes","event_type":"fax.received","payload":{"note":"'),
      Buffer.from([0xff]),
      Buffer.from('"}}}'),
    ]);
    const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));

    expect(response.status).toBe(200);
    expect(harness.recorded.map((event) => event.id)).toEqual(['evt-bytes']);
  });

  const forgedSignature = randomBytes(64).toString('base64');
  it.each([
    [
      'a forged signature',
      () => ({ ...signWebhook(deliveredBody, key.secretKey, NOW_SEC), [SIGNATURE_HEADER]: forgedSignature }),
      'bad_signature',
    ],
    [
      'a signature by another key',
      () => signWebhook(deliveredBody, otherKey.secretKey, NOW_SEC),
      'bad_signature',
    ],
    [
      'a timestamp 301 s old',
      () => signWebhook(deliveredBody, key.secretKey, NOW_SEC - 301),
      'stale_timestamp',
    ],
    [
      'a timestamp 301 s ahead',
      () => signWebhook(deliveredBody, key.secretKey, NOW_SEC + 301),
      'stale_timestamp',
    ],
    [
      'a non-numeric timestamp',
      () => signWebhook(deliveredBody, key.secretKey, 'yesterday'),
      'bad_timestamp',
    ],
    ['no signature headers', () => ({ 'content-type': 'application/json' }), 'missing_headers'],
    [
      'only a timestamp header',
      () => ({ [TIMESTAMP_HEADER]: String(NOW_SEC), 'content-type': 'application/json' }),
      'missing_headers',
    ],
  ])('refuses %s with 401 and records nothing', async (_label, makeHeaders, reason) => {
    const harness = await startApp();
    const response = await post(harness, deliveredBody, makeHeaders());

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: reason });
    expect(harness.recorded).toEqual([]);
    expect(harness.results).toEqual([reason]);
  });

  it('refuses a body changed after signing with 401', async () => {
    const harness = await startApp();
    const headers = signWebhook(deliveredBody, key.secretKey, NOW_SEC);
    const response = await post(harness, deliveredBody.replace('fax.delivered', 'fax.failed'), headers);

    expect(response.status).toBe(401);
    expect(harness.recorded).toEqual([]);
  });

  it.each([
    ['malformed JSON', '{"data":{"id":"e1",'],
    ['a JSON array', '[{"data":{"id":"e1","event_type":"fax.queued"}}]'],
    ['no data.id', JSON.stringify({ data: { event_type: 'fax.queued', payload: {} } })],
    ['an empty data.id', JSON.stringify({ data: { id: '', event_type: 'fax.queued' } })],
    ['a numeric data.id', JSON.stringify({ data: { id: 42, event_type: 'fax.queued' } })],
    ['no data.event_type', JSON.stringify({ data: { id: 'e1', payload: {} } })],
    [
      'the legacy envelope without data',
      JSON.stringify({ id: 'e1', event_type: 'fax.delivered', payload: {} }),
    ],
  ])('refuses validly signed %s with 400 and records nothing', async (_label, body) => {
    const harness = await startApp();
    const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'not_a_telnyx_event' });
    expect(harness.recorded).toEqual([]);
    expect(harness.results).toEqual(['bad_request']);
  });

  it('accepts a body of exactly 1 MB', async () => {
    const harness = await startApp();
    const json = JSON.stringify({ data: { id: 'evt-big', event_type: 'fax.queued' } });
    const body = Buffer.alloc(1 * MB, 0x20); // JSON allows trailing whitespace
    body.write(json, 0, 'utf8');
    const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));

    expect(response.status).toBe(200);
    expect(harness.recorded.map((event) => event.id)).toEqual(['evt-big']);
  });

  it('refuses a body of 1 MB + 1 byte with 413 before checking it', async () => {
    const harness = await startApp();
    const body = Buffer.alloc(1 * MB + 1, 0x20);
    const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'body_too_large' });
    expect(harness.recorded).toEqual([]);
    expect(harness.results).toEqual(['too_large']);
  });

  it('refuses an oversized chunked body (no Content-Length) with 413', async () => {
    const harness = await startApp();
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * MB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${harness.url}/webhooks/telnyx`, {
      method: 'POST',
      body: stream,
      headers: signWebhook('', key.secretKey, NOW_SEC),
      duplex: 'half',
    } as RequestInit);

    expect(response.status).toBe(413);
    expect(harness.recorded).toEqual([]);
  });

  it('answers 401 to missing or stale signature headers without waiting for the body, and closes', async () => {
    const harness = await startApp();
    const unsigned = await startUpload(harness.url, { 'content-type': 'application/json' }, 1 * MB);
    const stale = await startUpload(harness.url, signWebhook('{}', key.secretKey, NOW_SEC - 301), 1 * MB);
    for (const upload of [unsigned, stale]) {
      const answer = await upload.answer;
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer.toLowerCase()).toContain('connection: close');
    }
    expect(harness.results).toEqual(['missing_headers', 'stale_timestamp']);
  });

  it('answers 503 with Retry-After while the bodies being read would pass the cap, 200 again after', async () => {
    const harness = await startApp({ maxInFlightBytes: 2 * MB });
    // Two slow uploads with plausible headers hold 1 MB each; their bodies never finish.
    await startUpload(harness.url, signWebhook('x', key.secretKey, NOW_SEC), 1 * MB, 10);
    await startUpload(harness.url, signWebhook('y', key.secretKey, NOW_SEC), 1 * MB, 10);
    const signed = () => post(harness, deliveredBody, signWebhook(deliveredBody, key.secretKey, NOW_SEC));
    const busy = await waitForValue(async () => {
      const response = await signed();
      return response.status === 503 ? response : null;
    });
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(await busy.json()).toEqual({ error: 'busy' });
    for (const socket of sockets.splice(0)) socket.destroy();
    const accepted = await waitForValue(async () => {
      const response = await signed();
      return response.status === 200 ? response : null;
    });
    expect(accepted.status).toBe(200);
  });

  it('answers 503 when the event cannot be recorded, so Telnyx retries', async () => {
    const followedUp: TelnyxEvent[] = [];
    const harness = await startApp({
      record: async (event) => {
        if (event.id !== 'evt-later') throw new Error('database is down');
        return 'recorded';
      },
      afterRecord: (event) => void followedUp.push(event),
    });
    const response = await post(harness, deliveredBody, signWebhook(deliveredBody, key.secretKey, NOW_SEC));

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'unavailable' });
    expect(harness.results).toEqual(['unavailable']);
    // Once the database is back, a later event's follow-up is the barrier: the refused one had none before it.
    const later = JSON.stringify({ data: { id: 'evt-later', event_type: 'fax.queued' } });
    await post(harness, later, signWebhook(later, key.secretKey, NOW_SEC));
    await waitForLength(followedUp, 1);
    expect(followedUp.map((event) => event.id)).toEqual(['evt-later']);
    expect(harness.logLines.join('')).toContain('database is down');
  });

  it('logs an afterRecord failure (sync or async) without affecting the answer or the process', async () => {
    let calls = 0;
    const harness = await startApp({
      afterRecord: (event) => {
        calls += 1;
        if (event.id === 'evt-sync') throw new Error('follow-up exploded');
        return Promise.reject(new Error('async follow-up exploded')) as unknown as void;
      },
    });
    for (const id of ['evt-sync', 'evt-async']) {
      const body = JSON.stringify({ data: { id, event_type: 'fax.queued' } });
      const response = await post(harness, body, signWebhook(body, key.secretKey, NOW_SEC));
      expect(response.status).toBe(200);
    }
    const deadline = Date.now() + 10_000;
    while (!harness.logLines.join('').includes('async follow-up exploded') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect(calls).toBe(2);
    const failures = harness.logLines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'webhook follow-up failed');
    expect(failures.map((line) => line.err.message).sort()).toEqual([
      'async follow-up exploded',
      'follow-up exploded',
    ]);
    expect((await fetch(`${harness.url}/healthz`)).status).toBe(200);
  });

  it('answers a POST in absolute form (through the route table, not the fast check) the same way, once', async () => {
    const harness = await startApp();
    const headers = signWebhook(deliveredBody, key.secretKey, NOW_SEC);
    const { port } = new URL(harness.url);
    const socket = connect(Number(port), '127.0.0.1');
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk: Buffer) => void (received += chunk.toString('latin1')));
    const lines = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(deliveredBody)) });
    socket.write(
      `POST http://test/webhooks/telnyx HTTP/1.1\r\nhost: test\r\n` +
        `${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${deliveredBody}`,
    );
    await waitForValue(async () => (received.includes('{"result":"recorded"}') ? true : null));

    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(harness.recorded.map((event) => event.id)).toEqual([JSON.parse(deliveredBody).data.id]);
    await waitForLength(harness.followedUp, 1);
    const accessLines = harness.logLines.filter((line) => line.includes('"msg":"http request"'));
    expect(accessLines).toHaveLength(1);
  });

  it('never logs the signature headers or the body, but logs one access line per request', async () => {
    const harness = await startApp();
    const headers = signWebhook(deliveredBody, key.secretKey, NOW_SEC);
    await post(harness, deliveredBody, headers);
    await post(harness, deliveredBody, { ...headers, [SIGNATURE_HEADER]: forgedSignature });

    const logText = harness.logLines.join('');
    expect(logText).not.toContain(headers[SIGNATURE_HEADER]);
    expect(logText).not.toContain(forgedSignature);
    expect(logText).not.toContain('+13127367276');
    expect(logText).not.toContain('0ccc7b54');
    const accessLines = harness.logLines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'http request');
    expect(accessLines).toEqual([
      expect.objectContaining({ method: 'POST', path: '/webhooks/telnyx', status: 200, component: 'http' }),
      expect.objectContaining({ method: 'POST', path: '/webhooks/telnyx', status: 401, component: 'http' }),
    ]);
    expect(typeof accessLines[0].durationMs).toBe('number');
    expect(accessLines[0].reqId).not.toBe(accessLines[1].reqId);
  });
});

describe('probes and routing', () => {
  it('GET /healthz answers 200 {status: ok}', async () => {
    const harness = await startApp();
    const response = await fetch(`${harness.url}/healthz`);
    expect(response.status).toBe(200);
    // `instance` tells `faxbridge doctor` which process answered through http.public_url.
    expect(await response.json()).toEqual({ status: 'ok', instance: expect.any(String) });
  });

  it('GET /readyz answers 200 with the checks, and reuses the answer within 30 s', async () => {
    const harness = await startApp();
    const first = await fetch(`${harness.url}/readyz`);
    const second = await fetch(`${harness.url}/readyz`);

    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'ok', checks: { database: 'ok' } });
    expect(second.status).toBe(200);
    expect(harness.readyCalls()).toBe(1);
  });

  it('GET /readyz answers 503 with the checks when a dependency is down', async () => {
    const harness = await startApp({
      ready: { ok: false, checks: { database: 'ok', storage: 'unreachable' } },
    });
    const response = await fetch(`${harness.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'ok', storage: 'unreachable' },
    });
  });

  it('answers unknown routes with a JSON 404 and a wrong method with 405', async () => {
    const harness = await startApp();
    const missing = await fetch(`${harness.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found' });

    const wrongMethod = await fetch(`${harness.url}/webhooks/telnyx`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('POST');
    expect(await wrongMethod.json()).toEqual({ error: 'method_not_allowed' });
    expect(harness.recorded).toEqual([]);
  });

  it('serves GET /media/{*path} when wired, and turns a thrown error into a bare JSON 500', async () => {
    const seen: string[] = [];
    const harness = await startApp({
      media: (ctx) => {
        const path = (ctx as unknown as { params: { path: string[] | string } }).params.path;
        seen.push(Array.isArray(path) ? path.join('/') : path);
        if (ctx.query.fail) throw new Error('secret internals at /srv/x.ts:12');
        ctx.body = 'pdf';
      },
    });
    const ok = await fetch(`${harness.url}/media/a/b.pdf`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('pdf');

    const broken = await fetch(`${harness.url}/media/c.pdf?fail=1`);
    expect(broken.status).toBe(500);
    const text = await broken.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal_server_error' });
    expect(text).not.toContain('secret internals');
    expect(seen).toEqual(['a/b.pdf', 'c.pdf']);
    // The route pattern is logged, not the (signed) path.
    expect(harness.logLines.join('')).not.toContain('/media/a/b.pdf');
  });

  it('streams a document whole with its headers, and closes it when the reader leaves early or asks HEAD only', async () => {
    // Stream bodies are piped by our outermost middleware, not by Koa (src/http/koaBodies.ts): a document left open
    // would hold its file until the daemon stops.
    const chunk = Buffer.alloc(64 * 1024, 0x25);
    const chunks = 64;
    const closed: string[] = [];
    const harness = await startApp({
      media: (ctx) => {
        let sent = 0;
        const body = new Readable({
          read() {
            setTimeout(() => this.push(sent++ < chunks ? chunk : null), 2);
          },
        });
        body.once('close', () => closed.push(ctx.path));
        ctx.type = 'application/pdf';
        ctx.length = chunk.length * chunks;
        ctx.body = body;
      },
    });

    const whole = await fetch(`${harness.url}/media/whole.pdf`);
    expect(whole.headers.get('content-type')).toBe('application/pdf');
    expect(whole.headers.get('content-length')).toBe(String(chunk.length * chunks));
    expect((await whole.arrayBuffer()).byteLength).toBe(chunk.length * chunks);

    const leaving = new AbortController();
    const early = await fetch(`${harness.url}/media/early.pdf`, { signal: leaving.signal });
    await early.body!.getReader().read();
    leaving.abort();

    const head = await fetch(`${harness.url}/media/head.pdf`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(chunk.length * chunks));
    expect(await head.text()).toBe('');

    await waitForValue(async () => (closed.length === 3 ? closed : null));
    expect([...closed].sort()).toEqual(['/media/early.pdf', '/media/head.pdf', '/media/whole.pdf']);
  });

  it('is not serving /media when it is not wired', async () => {
    const harness = await startApp();
    expect((await fetch(`${harness.url}/media/a.pdf`)).status).toBe(404);
  });
});

describe('makeCachedReadiness', () => {
  it('shares one check between concurrent callers and checks again after 30 s', async () => {
    let nowMs = 0;
    let calls = 0;
    const cached = makeCachedReadiness(
      async (): Promise<Readiness> => ({ ok: calls++ > 0, checks: { database: calls > 1 ? 'ok' : 'down' } }),
      { now: () => nowMs },
    );
    const [a, b] = await Promise.all([cached(), cached()]);
    expect(a).toEqual({ ok: false, checks: { database: 'down' } });
    expect(b).toBe(a);
    nowMs = 29_999;
    expect(await cached()).toBe(a);
    nowMs = 30_000;
    expect(await cached()).toEqual({ ok: true, checks: { database: 'ok' } });
    expect(calls).toBe(2);
  });

  it('turns a throwing check into not-ready without exposing its message', async () => {
    const cached = makeCachedReadiness(async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
    });
    expect(await cached()).toEqual({ ok: false, checks: { ready: 'error' } });
  });
});

/** Polls `probe` until it returns a value (10 s at most). */
async function waitForValue<T>(probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('listen', () => {
  it('the request timeout cuts slow uploads only: a download slower than it still arrives whole', async () => {
    const app = makeHttpApp({
      log: makeLogger({ level: 'silent' }, { write: () => undefined }),
      webhook: {
        log: makeLogger({ level: 'silent' }, { write: () => undefined }),
        verify: makeSignatureVerifier(key.publicKeyBase64, { now: () => NOW_SEC * 1000 }),
        record: async () => 'recorded',
      },
      ready: async () => ({ ok: true, checks: {} }),
      // A document that trickles out over more than ten request timeouts (and two timeout checks), as a 50 MB fax does to a slow reader.
      media: (ctx) => {
        let sent = 0;
        ctx.body = new Readable({
          read() {
            setTimeout(() => this.push(sent++ < 25 ? 'x'.repeat(1000) : null), 100);
          },
        });
      },
    });
    const listener = await listen(app, { host: '127.0.0.1', port: 0, requestTimeoutMs: 200 });
    listeners.push(listener);
    const response = await fetch(`${listener.url}/media/slow.pdf`);
    expect((await response.text()).length).toBe(25_000);
  });

  it('drops connections beyond maxConnections, and serves again once one closes', async () => {
    const harness = await startApp({ maxConnections: 2 });
    const { port } = new URL(harness.url);
    const open = async () => {
      const socket = connect(Number(port), '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const first = await open();
    await open();
    await expect(fetch(`${harness.url}/healthz`)).rejects.toThrow();
    first.destroy();
    const healthy = await waitForValue(() =>
      fetch(`${harness.url}/healthz`).then(
        (response) => (response.status === 200 ? response : null),
        () => null,
      ),
    );
    expect(healthy.status).toBe(200);
  });

  it('closes idle keep-alive sockets when it closes, then refuses new requests', async () => {
    const harness = await startApp();
    const listener = listeners.pop()!;
    const response = await fetch(`${harness.url}/healthz`); // undici keeps this socket alive
    await response.text();

    await listener.close();
    await expect(fetch(`${harness.url}/healthz`)).rejects.toThrow();
  });

  it('lets an in-flight request finish before close() resolves', async () => {
    let release: () => void = () => {};
    let markEntered: () => void = () => {};
    const entered = new Promise<void>((resolve) => (markEntered = resolve));
    const harness = await startApp({
      media: async (ctx) => {
        markEntered();
        await new Promise<void>((resolve) => (release = resolve));
        ctx.body = 'late';
      },
    });
    const listener = listeners.pop()!;
    const pending = fetch(`${harness.url}/media/slow.pdf`);
    await entered;
    const closing = listener.close();
    release();

    const response = await pending;
    expect(await response.text()).toBe('late');
    // Without `Connection: close` on that answer, its keep-alive socket held close() for seconds.
    expect(response.headers.get('connection')).toBe('close');
    await closing;
  });
});
