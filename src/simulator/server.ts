import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { coerceError } from '../errors.js';
import { createServer } from '../lib/nodeHttp.js';
import { MB } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { ActivityTracker } from './activity.js';
import { reshapeList } from './faxList.js';
import type { InjectionQueue } from './injections.js';
import type { ApiPacing } from './pacing.js';
import {
  type ApiRequest,
  type ApiResponse,
  handleApi,
  matchRoute,
  NOT_FOUND,
  type RouteDeps,
} from './routes.js';
import { defaultErrorBody, envelope, telnyxError } from './telnyxErrors.js';
import type { InjectedResponse, SimRequest } from './types.js';

/**
 * The simulator's HTTP front: `/v2/*` is the Telnyx API (bearer auth, injections, then the route table),
 * `/media/*` serves received faxes behind signed links, `/_sim/*` holds sandbox controls. Every request is
 * logged with the status it got, so tests can assert exactly what the daemon asked.
 */
export interface ServerDeps {
  routes: RouteDeps;
  injections: InjectionQueue;
  /** API latency, rate-limited periods and the concurrency seen (pacing.ts). */
  pacing: ApiPacing;
  tracker: ActivityTracker;
  apiKey: string | undefined;
  clock: () => number;
  log: Logger;
  /** Non-API paths (`/media/...`, `/_sim/...`); answers null when the path is not theirs. */
  extra: (request: ApiRequest) => Promise<ApiResponse | null>;
}

export interface SimHttpServer {
  /** `http://host:port`, without `/v2`. */
  origin: string;
  requests(): SimRequest[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 * MB;
/** Telnyx sends these on every answer (docs/telnyx.md §4); a 429 says to wait a second. */
const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit': '10',
  'x-ratelimit-remaining': '0',
  'x-ratelimit-reset': '1',
};

export async function startSimServer(deps: ServerDeps, host: string, port: number): Promise<SimHttpServer> {
  const log: SimRequest[] = [];
  const server = createServer((req, res) => {
    void serve(deps, log, req, res).catch((thrown: unknown) => {
      deps.log.error({ err: coerceError(thrown) }, 'simulator request failed');
      if (!res.headersSent && !res.destroyed) write(res, { status: 500, body: defaultErrorBody(500) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const reachableHost =
    address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  const origin = `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${address.port}`;
  return { origin, requests: () => log.map((entry) => ({ ...entry })), close: () => closeServer(server) };
}

async function serve(
  deps: ServerDeps,
  log: SimRequest[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = (req.method ?? 'GET').toUpperCase();
  const rawBody = await readBody(req);
  const entry: SimRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...req.headers },
    body: parseJson(rawBody),
    rawBody: rawBody ?? '',
    status: 0,
    injected: false,
    at: deps.clock(),
  };
  log.push(entry);
  const finish = (response: ApiResponse | null) => {
    entry.status = response && !req.socket.destroyed ? response.status : 0;
    if (response && !req.socket.destroyed) write(res, response);
    else req.socket.destroy();
  };
  if (rawBody === null) {
    return finish({
      status: 413,
      body: envelope(telnyxError('badRequest', 'The request body is too large.')),
    });
  }

  const isApi = url.pathname === '/v2' || url.pathname.startsWith('/v2/');
  const path = isApi ? url.pathname.slice(3).replace(/\/+$/, '') || '/' : url.pathname;
  const request: ApiRequest = { method, path, query: url.searchParams, headers: req.headers, rawBody };
  if (!isApi) return finish((await deps.extra(request)) ?? NOT_FOUND);

  if (deps.apiKey !== undefined && req.headers.authorization !== `Bearer ${deps.apiKey}`) {
    return finish({ status: 401, body: defaultErrorBody(401) });
  }
  const route = matchRoute(method, path);
  const kind = `${method} ${route?.template ?? path}`;
  const leave = deps.pacing.enter(kind);
  try {
    // Decided as the request arrives, answered after the latency, as a real API at its limit would.
    const limited = deps.pacing.limitedHeaders(kind);
    const latency = deps.pacing.latencyMs();
    if (latency > 0) await waitUnlessGone(latency, res, deps.tracker.signal);
    if (limited) {
      return finish({
        status: 429,
        headers: { ...RATE_LIMIT_HEADERS, ...limited },
        body: defaultErrorBody(429),
      });
    }
    const injection = deps.injections.take(method, path, route?.template ?? null, url.searchParams);
    if (!injection) return finish(route ? handleApi(deps.routes, request, route) : NOT_FOUND);

    entry.injected = true;
    deps.log.debug({ method, path, injection }, 'answering with an injected response');
    finish(await answerInjected(deps, injection, request, route, req, res));
  } finally {
    leave();
  }
}

/** Builds the injected answer; null means "destroy the socket". */
async function answerInjected(
  deps: ServerDeps,
  injection: InjectedResponse,
  request: ApiRequest,
  route: ReturnType<typeof matchRoute>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<ApiResponse | null> {
  const reshapes = injection.omitTotalPages === true || injection.patchEntries !== undefined;
  const real = (injection.afterCreate || reshapes) && route ? handleApi(deps.routes, request, route) : null;
  if (injection.hangMs !== undefined) await waitUnlessGone(injection.hangMs, res, deps.tracker.signal);
  if (injection.destroySocket || req.socket.destroyed) return null;

  const status = injection.status ?? real?.status ?? 500;
  const body =
    injection.body ??
    (real && real.status === status ? reshapeList(real.body, injection) : defaultErrorBody(status));
  const headers = { ...(status === 429 ? RATE_LIMIT_HEADERS : {}), ...injection.headers };
  return { status, body, headers };
}

/** Sleeps for a hang, but stops as soon as the client gives up or the simulator closes. */
function waitUnlessGone(ms: number, res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Reads the whole body as UTF-8 text; null when it is over the limit. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function write(res: ServerResponse, response: ApiResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | Uint8Array | undefined;
  if (response.body instanceof Uint8Array || typeof response.body === 'string') payload = response.body;
  else if (response.body !== undefined && response.status !== 204) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive and deliberately hung connections would otherwise hold close() open.
    server.closeAllConnections();
  });
}
