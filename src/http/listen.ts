import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createServer } from '../lib/nodeHttp.js';
import { SECOND } from '../lib/units.js';

/** What listen() serves: a Koa app, or the daemon's app (src/http/app.ts), which puts one route in front. */
export interface HttpApp {
  callback(): RequestListener;
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Whole-request budget; Node's default is 300 s, far more than a 1 MB webhook or a probe needs. */
  requestTimeoutMs?: number;
  /** How long close() lets in-flight requests finish before cutting their sockets. */
  closeGraceMs?: number;
  /** Open connections at once; beyond it new ones are dropped. */
  maxConnections?: number;
}

export interface HttpListener {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`; wildcard binds map to loopback. */
  url: string;
  port: number;
  /** Stops accepting, closes idle keep-alive sockets now and busy ones after the grace period. */
  close(): Promise<void>;
}

/**
 * Node's requestTimeout covers receiving the request (headers and body) only, not sending the answer: a
 * Telnyx fetch of a 50 MB document may take minutes once its short GET has arrived. So 30 s cuts slow or
 * stalled uploads (a webhook is a few KB) without touching downloads.
 */
const DEFAULT_REQUEST_TIMEOUT_MS = 30 * SECOND;
/**
 * Telnyx opens a handful of connections and the probes one each; far more at once is a flood. Node drops
 * connections above this as they arrive, so the process's sockets and per-connection memory stay bounded.
 */
const DEFAULT_MAX_CONNECTIONS = 1024;
/**
 * How often Node looks for requests past their header or request timeout. Its default (30 s) would let a
 * stalled upload live up to twice its timeout.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1 * SECOND;
const DEFAULT_CLOSE_GRACE_MS = 5 * SECOND;
/** Slowloris guard: the headers must arrive well within the request budget. */
const HEADERS_TIMEOUT_MS = 10 * SECOND;
/**
 * Longer than the usual 60 s idle timeout of reverse proxies would cause 502s on reused sockets; shorter than
 * theirs is the safe side (the proxy reconnects).
 */
const KEEP_ALIVE_TIMEOUT_MS = 5 * SECOND;

/**
 * Starts `app` on host:port and returns its stop, like every component (docs/architecture.md, start-up).
 * Rejects if the port cannot be bound.
 */
export async function listen(app: HttpApp, options: ListenOptions): Promise<HttpListener> {
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer({ connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS }, app.callback());
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const inFlight = trackInFlightResponses(server);
  const address = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(address)}:${address.port}`,
    port: address.port,
    close: () => {
      inFlight.endKeepAlive();
      return closeServer(server, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    },
  };
}

/**
 * server.close() leaves a keep-alive socket open after its last in-flight answer until the client drops it
 * (seconds). Once closing, every answer not yet started says `Connection: close`, which makes Node end the
 * socket right after it; answers already under way get their now-idle socket closed when they finish.
 */
function trackInFlightResponses(server: Server): { endKeepAlive(): void } {
  const responses = new Set<ServerResponse>();
  let closing = false;
  const endAfter = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) return endAfter(res);
    responses.add(res);
    res.once('close', () => responses.delete(res));
  });
  return {
    endKeepAlive: () => {
      closing = true;
      for (const res of responses) endAfter(res);
    },
  };
}

/**
 * server.close() alone waits for every keep-alive socket to time out; closing idle ones right away makes
 * shutdown (and each test's teardown) immediate, and the grace timer bounds slow clients.
 */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const forceTimer = setTimeout(() => server.closeAllConnections(), graceMs);
    forceTimer.unref();
    server.close((error) => {
      clearTimeout(forceTimer);
      // ERR_SERVER_NOT_RUNNING: close() called twice; the goal (stopped) is already reached.
      if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
