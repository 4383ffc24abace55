import type Koa from 'koa';
import type { Registry } from 'prom-client';

/**
 * GET /metrics: the registry in Prometheus text format. Unauthenticated like the probes (docs/behaviour.md
 * §8); it carries counts only, never numbers, addresses or ids, so bind http.listen to a private interface or
 * filter /metrics at the reverse proxy if the scrape must not be public.
 */
export function makeMetricsHandler(registry: Registry): Koa.Middleware {
  return async (ctx) => {
    const text = await registry.metrics();
    ctx.set('Content-Type', registry.contentType);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = text;
  };
}
