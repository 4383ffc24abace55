import type Koa from 'koa';

import { coerceError } from '../errors.js';
import { SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import { setJsonBody } from './koaBodies.js';

export interface Readiness {
  ok: boolean;
  /** One entry per dependency (database, storage, mail transport), e.g. `{database: 'ok'}`. */
  checks: Record<string, string>;
}

export type ReadinessCheck = () => Promise<Readiness>;

export interface ReadyHandlerOptions {
  /** How long one answer is reused; docs/behaviour.md §8 says dependencies are checked at most every 30 s. */
  cacheMs?: number;
  /** Current time in milliseconds, injected for tests. */
  now?: () => number;
  /** Where a throwing check is logged; the client only sees `error` (the message may name hosts). */
  log?: Logger;
}

const DEFAULT_READY_CACHE_MS = 30 * SECOND;

/**
 * GET /healthz: 200 while the process can answer at all; it checks nothing else on purpose. `instance` is a
 * random id per process, so `faxbridge doctor` can tell that http.public_url reaches this very daemon.
 */
export function makeHealthHandler(instance: string): Koa.Middleware {
  return (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    setJsonBody(ctx, { status: 'ok', instance });
  };
}

/** GET /readyz: 200 `{status:'ok', checks}` when every dependency is usable, else 503 with the same shape. */
export function makeReadyHandler(ready: ReadinessCheck, options: ReadyHandlerOptions = {}): Koa.Middleware {
  const checkReadiness = makeCachedReadiness(ready, options);
  return async (ctx) => {
    const readiness = await checkReadiness();
    ctx.status = readiness.ok ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    setJsonBody(ctx, { status: readiness.ok ? 'ok' : 'unavailable', checks: readiness.checks });
  };
}

/**
 * Shares one check between concurrent probes and reuses its answer for `cacheMs`, failures included, so a
 * probe storm (or a slow database) cannot turn into a query storm.
 */
export function makeCachedReadiness(
  ready: ReadinessCheck,
  options: ReadyHandlerOptions = {},
): ReadinessCheck {
  const cacheMs = options.cacheMs ?? DEFAULT_READY_CACHE_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; result: Promise<Readiness> } | null = null;

  return () => {
    const at = now();
    if (cached && at - cached.at < cacheMs) return cached.result;
    const result = ready().catch((error: unknown): Readiness => {
      options.log?.error({ err: coerceError(error) }, 'readiness check threw');
      return { ok: false, checks: { ready: 'error' } };
    });
    cached = { at, result };
    return result;
  };
}
