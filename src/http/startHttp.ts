import type Koa from 'koa';

import type { Ctx } from '../context.js';
import { eventRow } from '../events/eventRow.js';
import type { Stoppable } from '../lib/stopStack.js';
import { makeHttpApp } from './app.js';
import type { Readiness } from './health.js';
import { type HttpListener, listen } from './listen.js';
import { makeMediaHandler } from './media.js';
import { makeMetricsHandler } from './metrics.js';
import { makeSignatureVerifier } from './verifySignature.js';

/**
 * The HTTP listener: Telnyx webhooks (recorded, then said on the event bus), media and document links,
 * health, readiness and metrics. Started first among the components: with port 0 and a derived public URL,
 * the URL is known only once it is bound, and everything started after reads it from `ctx.config`.
 */
export async function startHttp(
  ctx: Ctx,
  mounted: { console?: Koa.Middleware } = {},
): Promise<Stoppable & { listener: HttpListener }> {
  const { store, documents, signer, clock, events } = ctx;
  const app = makeHttpApp({
    log: ctx.log,
    webhook: {
      verify: makeSignatureVerifier(ctx.telnyxPublicKey, { now: () => clock.now() }),
      log: ctx.log.child({ component: 'webhook' }),
      record: (event) => store.recordEvent(eventRow(event, clock.now())),
      afterRecord: (event) => events.emit('eventRecorded', { event }),
      onResult: (result) => events.emit('webhookAnswered', { result }),
    },
    ready: () => checkReadiness(ctx),
    media: makeMediaHandler({ documents, signer, clock }),
    documents: makeMediaHandler({ documents, signer, clock, prefix: '/documents/' }),
    metrics: makeMetricsHandler(ctx.metrics.registry),
    console: mounted.console,
  });
  const listener = await listen(app, ctx.config.http.listen);
  const { http } = ctx.config;
  if (http.public_url_derived && http.listen.port === 0) {
    ctx.config = { ...ctx.config, http: { ...http, public_url: listener.url } };
  }
  return { listener, stop: () => listener.close() };
}

/** Database, document storage and mail transport, each answering `ok` or why not. */
export async function checkReadiness(ctx: Ctx): Promise<Readiness> {
  const checks: Record<string, string> = {};
  const check = (name: string, probe: Promise<unknown>) =>
    probe.then(
      () => (checks[name] = 'ok'),
      (error: Error) => (checks[name] = error.message),
    );
  await Promise.all([
    check('database', ctx.store.ping()),
    check('storage', ctx.documents.ping()),
    check('mail', ctx.mailer.verify()),
  ]);
  return { ok: Object.values(checks).every((value) => value === 'ok'), checks };
}
