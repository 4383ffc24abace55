import type { Config } from './config/loadConfig.js';
import { consoleEnabled } from './console/consoleDeps.js';
import { closeCtx, type Ctx, type CtxOptions, makeCtx } from './context.js';
import { startEventProcessing } from './events/startEventProcessing.js';
import { makeCachedReadiness } from './http/health.js';
import type { HttpListener } from './http/listen.js';
import { checkReadiness, startHttp } from './http/startHttp.js';
import { startMissedFaxPoll } from './inbound/pollMissedFaxes.js';
import { startInbound } from './inbound/startInbound.js';
import { cancelWithClient } from './jobs/operatorActions.js';
import { startRetention } from './jobs/retention.js';
import { startJobs } from './jobs/startJobs.js';
import { makeStopStack } from './lib/stopStack.js';
import { startOutbox } from './mail/startOutbox.js';
import type { Metrics } from './metrics.js';
import type { SmtpListener } from './smtp/server.js';
import { startSmtp } from './smtp/startSmtp.js';
import { startMetrics } from './startMetrics.js';
import type { JobStore } from './store/jobStore.js';
import { type TelnyxCallLog, withCallLog } from './telnyx/callLog.js';

export type DaemonOptions = CtxOptions;

export interface Daemon {
  config: Config;
  store: JobStore;
  smtp: SmtpListener;
  http: HttpListener;
  metrics: Metrics;
  /** Stops intake first, then lets work in flight finish within `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Builds the context (database, storage and clients: nothing is accepted before they work), then starts the
 * components in order and stops them in reverse under one deadline: SMTP intake stops first, the job in
 * flight gets what is left of the grace, and HTTP closes late so Telnyx can still fetch the media of a fax
 * placed during the grace and post its events.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const ctx = await makeCtx(options);
  // Every Telnyx call is noted for the console's health page, before any component takes the client.
  const telnyx = withCallLog(ctx.telnyx, () => ctx.clock.now());
  ctx.telnyx = telnyx.client;
  const stack = makeStopStack();
  try {
    stack.push({ stop: () => closeCtx(ctx) });
    stack.push(startMetrics(ctx));
    const http = stack.push(await startHttp(ctx, { console: await makeConsoleIfEnabled(ctx, telnyx.calls) }));
    stack.push(startOutbox(ctx));
    stack.push(startEventProcessing(ctx));
    stack.push(startJobs(ctx));
    stack.push(startInbound(ctx));
    stack.push(startMissedFaxPoll(ctx));
    stack.push(startRetention(ctx));
    const smtp = stack.push(await startSmtp(ctx));
    return {
      config: ctx.config,
      store: ctx.store,
      smtp: smtp.listener,
      http: http.listener,
      metrics: ctx.metrics,
      stop: (graceMs) => stack.stopAll(graceMs),
    };
  } catch (error) {
    // A component that cannot start (a port in use) stops the ones already running and closes the database.
    await stack.stopAll(0).catch(() => undefined);
    throw error;
  }
}

/**
 * The web console, mounted on the HTTP listener under /console/ when a way to sign in exists (or in sandbox).
 * Its pages and routes are loaded only then: a daemon without a console does not carry them.
 */
async function makeConsoleIfEnabled(ctx: Ctx, telnyxCalls: TelnyxCallLog) {
  if (!consoleEnabled(ctx.config)) return undefined;
  const { makeConsole } = await import('./console/makeConsole.js');
  return makeConsole({
    config: ctx.config,
    store: ctx.store,
    documents: ctx.documents,
    urlSecret: ctx.urlSecret,
    clock: ctx.clock,
    log: ctx.log.child({ component: 'console' }),
    // Cached like /readyz (at most one check every 30 s), so reloading the health page cannot storm the relay.
    ready: makeCachedReadiness(() => checkReadiness(ctx)),
    telnyxCalls,
    startedAt: ctx.clock.now(),
    cancelAtTelnyx: (faxId) => cancelWithClient(ctx.telnyx, faxId),
    onQueued: (jobs) => ctx.events.emit('messageQueued', { jobs: jobs.length, via: 'console' }),
    onMailQueued: () => ctx.events.emit('outboxWritten', undefined),
  });
}
