import path from 'node:path';

import { openStorage } from './blobs/openStorage.js';
import { loadUrlSecret } from './blobs/urlSecret.js';
import type { Config } from './config/loadConfig.js';
import { consoleEnabled } from './console/consoleDeps.js';
import { makeConsole } from './console/makeConsole.js';
import { type EventDeps, processEvent, processPendingEvents } from './events/processEvents.js';
import { makeHttpApp } from './http/app.js';
import { type HttpListener, listen } from './http/listen.js';
import { makeMediaHandler } from './http/media.js';
import { makeMetricsHandler } from './http/metrics.js';
import { type TelnyxEvent } from './http/telnyxWebhook.js';
import { makeSignatureVerifier } from './http/verifySignature.js';
import { makeInboundMailComposer } from './inbound/composeInboundMail.js';
import { makeInboundEventHandler } from './inbound/handleInboundEvent.js';
import { startInboundWorker } from './inbound/inboundWorker.js';
import { cancelWithClient } from './jobs/operatorActions.js';
import { startRetentionLoop } from './jobs/retention.js';
import { startJobRunner } from './jobs/runner.js';
import { workJob } from './jobs/sendFax.js';
import { type Clock, systemClock } from './lib/clock.js';
import { makePrivateDir, tightenTree } from './lib/privateFiles.js';
import { MINUTE, SECOND } from './lib/units.js';
import { makeUrlSigner } from './lib/urlSigner.js';
import type { Logger } from './log.js';
import { makeMailer } from './mail/mailer.js';
import { startOutboxLoop } from './mail/outboxWorker.js';
import { makeMetrics, type Metrics } from './metrics.js';
import { makeMetricHooks } from './metricsHooks.js';
import type { DnsResolver } from './smtp/senderAuth.js';
import { type SmtpListener, startSmtpListener } from './smtp/server.js';
import type { JobRow, JobStore } from './store/jobStore.js';
import { openStore } from './store/openStore.js';
import { makeTelnyxClient } from './telnyx/client.js';

export interface DaemonOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Sandbox mode: the built-in simulator's URL and key (main starts it before the daemon). */
  telnyx?: { apiUrl: string; apiKey: string; publicKey: string };
  /** Worker poll interval; tests shorten it. */
  pollMs?: number;
  /**
   * TEST KNOB, not a config key: base wait before resending a mail the relay deferred (production: 15 s
   * doubling to 30 min), so relay-outage tests finish in seconds.
   */
  outboxBackoffMs?: number;
  /** Prometheus registry and counters; one per daemon (made here when not given). */
  metrics?: Metrics;
  /** How often Telnyx is polled for inbound faxes whose webhook was missed (default 5 min); tests shorten it. */
  missedFaxPollMs?: number;
  /** TEST KNOB, not a config key: deadline for fetching one received fax (production: 5 min). */
  inboundFetchDeadlineMs?: number;
  /** DNS for SPF/DKIM/DMARC checks of relayed mail (not a config key: tests serve records from a table). */
  dnsResolver?: DnsResolver;
}

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
 * Wires the daemon: store and storage first (nothing is accepted before they work), then HTTP (so the public
 * URL is known when it was derived from port 0), the workers, and SMTP last. `stop` undoes it in reverse.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { log } = options;
  let config = options.config;
  const clock = options.clock ?? systemClock;
  await makeDataDirPrivate(config.data_dir, log);
  const store = await openStore(config.database.url, {
    onPoolError: (error) => log.warn({ err: error }, 'database connection lost; the next query reconnects'),
  });
  await store.migrate();
  const orphaned = (await store.releaseOrphanedLeases?.()) ?? 0;
  if (orphaned > 0)
    log.info({ leases: orphaned }, 'freed the work of a previous run that did not stop cleanly');
  const urlSecret = await loadUrlSecret(config.http.url_secret, config.data_dir);
  const signer = makeUrlSigner(urlSecret);
  const documents = await openStorage({ config, publicUrl: () => config.http.public_url, signer });
  await documents.ping();
  const metrics =
    options.metrics ??
    makeMetrics({
      store,
      onCollectError: (error) => log.warn({ err: error }, 'metrics: store not readable for depth gauges'),
    });
  const metricHooks = makeMetricHooks({ metrics, store, clock, log });

  const telnyxSettings = options.telnyx ?? {
    apiUrl: config.telnyx.api_url,
    apiKey: config.telnyx.api_key ?? '',
    publicKey: config.telnyx.public_key ?? '',
  };
  const telnyx = makeTelnyxClient({
    apiUrl: telnyxSettings.apiUrl,
    apiKey: telnyxSettings.apiKey,
    timeoutMs: config.telnyx.request_timeout,
  });
  const mailer = makeMailer({
    smtpUrl: config.mail.smtp_url ?? null,
    outboxDir: path.join(config.data_dir, 'outbox'),
    log: log.child({ component: 'mail' }),
  });

  // Set once the workers exist; an event recorded before that is picked up by the first sweep.
  let eventDeps: EventDeps | null = null;
  const afterRecord = (event: TelnyxEvent) => {
    const deps = eventDeps;
    if (!deps) return;
    // The row as just recorded; the store re-checks `processed_at` inside its transaction.
    processEvent(deps, { ...eventRow(event, clock.now()), processed_at: null, outcome: null }).catch(
      (error: unknown) =>
        deps.log.error({ err: error, event: event.id }, 'event processing failed; the sweep retries it'),
    );
  };
  const ready = async () => {
    const checks: Record<string, string> = {};
    const check = (name: string, probe: Promise<unknown>) =>
      probe.then(
        () => (checks[name] = 'ok'),
        (error: Error) => (checks[name] = error.message),
      );
    await Promise.all([
      check('database', store.ping()),
      check('storage', documents.ping()),
      check('mail', mailer.verify()),
    ]);
    return { ok: Object.values(checks).every((value) => value === 'ok'), checks };
  };
  // Set once the runner and outbox exist; a console send before that is picked up by their first poll.
  let wakeWorkers: (jobs: JobRow[]) => void = () => undefined;
  const app = makeHttpApp({
    log,
    webhook: {
      verify: makeSignatureVerifier(telnyxSettings.publicKey, { now: () => clock.now() }),
      log: log.child({ component: 'webhook' }),
      record: (event) => store.recordEvent(eventRow(event, clock.now())),
      afterRecord,
      onResult: metricHooks.onWebhook,
    },
    ready,
    media: makeMediaHandler({ documents, signer, clock }),
    documents: makeMediaHandler({ documents, signer, clock, prefix: '/documents/' }),
    metrics: makeMetricsHandler(metrics.registry),
    console: consoleEnabled(config)
      ? makeConsole({
          config,
          store,
          documents,
          urlSecret,
          clock,
          log: log.child({ component: 'console' }),
          ready,
          cancelAtTelnyx: (faxId) => cancelWithClient(telnyx, faxId),
          onQueued: (jobs) => wakeWorkers(jobs),
        })
      : undefined,
  });
  const http = await listen(app, config.http.listen);
  if (config.http.public_url_derived && config.http.listen.port === 0) {
    config = { ...config, http: { ...config.http, public_url: http.url } };
  }

  const outbox = startOutboxLoop(
    {
      config,
      store,
      documents,
      mailer,
      signer,
      clock,
      log: log.child({ component: 'outbox' }),
      onSent: metricHooks.onSent,
      composeOther: makeInboundMailComposer({ config, store, documents, signer }),
      backoff:
        options.outboxBackoffMs === undefined
          ? undefined
          : { baseMs: options.outboxBackoffMs, maxMs: 4 * options.outboxBackoffMs },
    },
    options.pollMs,
  );
  const runner = startJobRunner({
    store,
    clock,
    log: log.child({ component: 'worker' }),
    pollMs: options.pollMs,
    work: async (job, owner, jobLog, signal) => {
      const transition = await workJob(
        { config, store, documents, telnyx, clock },
        job,
        owner,
        jobLog,
        signal,
      );
      metricHooks.onWorked(job, transition);
      if (transition?.outbox?.length) setImmediate(() => outbox.wake());
      return transition;
    },
  });
  // Received faxes (product.md §7) are worked from their rows; retention sweeps hourly (product.md §9).
  const inboundCounters = {
    received: () => metrics.inboundReceived.inc(),
    unrouted: () => metrics.inboundUnrouted.inc(),
  };
  const inbound = startInboundWorker({
    config,
    store,
    documents,
    telnyx,
    clock,
    log: log.child({ component: 'inbound' }),
    counters: inboundCounters,
    pollMs: options.pollMs,
    missedPollMs: options.missedFaxPollMs,
    fetchDeadlineMs: options.inboundFetchDeadlineMs,
    onQueued: () => outbox.wake(),
  });
  const retention = startRetentionLoop({
    config,
    store,
    documents,
    clock,
    log: log.child({ component: 'retention' }),
  });
  wakeWorkers = (jobs) => {
    metrics.jobsAccepted.inc(jobs.length);
    runner.wake();
    outbox.wake();
  };
  const deps: EventDeps = {
    config,
    store,
    clock,
    log: log.child({ component: 'events' }),
    onInbound: makeInboundEventHandler({
      config,
      store,
      clock,
      log: log.child({ component: 'inbound' }),
      counters: inboundCounters,
      onRecorded: () => inbound.wake(),
      onQueued: () => outbox.wake(),
    }),
    onOutcome: (outcome, event) => {
      metricHooks.onOutcome(outcome, event);
      runner.wake();
      outbox.wake();
    },
  };
  eventDeps = deps;
  // Events recorded before a crash but not acted on are picked up here, and again every few seconds.
  const sweep = () => void processPendingEvents(deps).catch(() => undefined);
  const sweeper = setInterval(sweep, 5 * SECOND);
  sweep();

  const smtp = await startSmtpListener({
    config,
    store,
    documents,
    clock,
    log: log.child({ component: 'smtp' }),
    onQueued: (jobs) => {
      metricHooks.onQueued(jobs);
      runner.wake();
      outbox.wake();
    },
    onRejected: metricHooks.onRejected,
    dnsResolver: options.dnsResolver,
  });

  return {
    config,
    store,
    smtp,
    http,
    metrics,
    async stop(graceMs) {
      // One deadline for the whole stop (product.md §9): SMTP stops listening at once and gives DATA in
      // progress the grace; the job in flight gets what is left. HTTP closes after the workers, so Telnyx can
      // still fetch the media of a fax placed during the grace and post its events.
      const deadline = Date.now() + graceMs;
      const left = () => Math.max(0, deadline - Date.now());
      await smtp.close(Math.min(graceMs, 5 * MINUTE));
      clearInterval(sweeper);
      await runner.stop(left());
      await inbound.stop();
      await retention.stop();
      await http.close();
      // A mail half-sent when time is up is sent again after the restart (same Message-ID, product.md §4).
      await Promise.race([outbox.stop(), new Promise((resolve) => setTimeout(resolve, left()).unref())]);
      await mailer.close();
      await telnyx.close();
      await store.close();
    },
  };
}

/**
 * Everything under data_dir is owner-only; a data dir left 0755 with 0644 files by an older version is
 * tightened once, here, and the log says so.
 */
async function makeDataDirPrivate(dataDir: string, log: Logger): Promise<void> {
  await makePrivateDir(dataDir);
  // Made here, before SMTP spools messages into it with whatever mode the process's umask gives.
  await makePrivateDir(path.join(dataDir, 'tmp'));
  const { tightened, failed } = await tightenTree(dataDir);
  if (tightened > 0) {
    log.info(
      { dataDir, entries: tightened },
      'made files and folders in data_dir readable by their owner only',
    );
  }
  if (failed.length > 0) {
    log.warn(
      { dataDir, entries: failed.length, first: failed.slice(0, 5) },
      'could not make some files in data_dir owner-only; other local users may read them',
    );
  }
}

function eventRow(event: TelnyxEvent, now: number) {
  return {
    id: event.id,
    event_type: event.eventType,
    fax_id: typeof event.payload.fax_id === 'string' ? event.payload.fax_id : null,
    occurred_at: event.occurredAt,
    received_at: now,
    payload_json: JSON.stringify(event.raw),
  };
}
