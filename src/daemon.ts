import path from 'node:path';

import { makeMailer } from './clients/mailer.js';
import { makeTelnyxClient } from './clients/telnyx.js';
import type { Config } from './config/loadConfig.js';
import { makeHttpApp } from './http/app.js';
import { type HttpListener, listen } from './http/listen.js';
import { makeMediaHandler } from './http/media.js';
import { type TelnyxEvent } from './http/telnyxWebhook.js';
import { makeSignatureVerifier } from './http/verifySignature.js';
import { startOutboxLoop } from './jobs/outboxWorker.js';
import { type EventDeps, processEvent, processPendingEvents } from './jobs/processEvents.js';
import { startJobRunner } from './jobs/runner.js';
import { workJob } from './jobs/sendFax.js';
import { type Clock, systemClock } from './lib/clock.js';
import { MINUTE, SECOND } from './lib/units.js';
import { makeUrlSigner } from './lib/urlSigner.js';
import type { Logger } from './log.js';
import { type SmtpListener, startSmtpListener } from './smtp/server.js';
import { makeLocalStorage } from './storage/localStorage.js';
import { loadUrlSecret } from './storage/urlSecret.js';
import type { JobStore } from './store/jobStore.js';
import { openStore } from './store/openStore.js';

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
}

export interface Daemon {
  config: Config;
  store: JobStore;
  smtp: SmtpListener;
  http: HttpListener;
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
  const store = await openStore(config.database.url);
  await store.migrate();
  const signer = makeUrlSigner(await loadUrlSecret(config.http.url_secret, config.data_dir));
  const documents = makeLocalStorage({
    root: path.join(config.data_dir, 'documents'),
    publicUrl: () => config.http.public_url,
    signer,
  });
  await documents.ping();

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
  const app = makeHttpApp({
    log,
    webhook: {
      verify: makeSignatureVerifier(telnyxSettings.publicKey, { now: () => clock.now() }),
      log: log.child({ component: 'webhook' }),
      record: (event) => store.recordEvent(eventRow(event, clock.now())),
      afterRecord,
    },
    ready: async () => {
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
    },
    media: makeMediaHandler({ documents, signer, clock }),
    documents: makeMediaHandler({ documents, signer, clock, prefix: '/documents/' }),
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
      if (transition?.outbox?.length) setImmediate(() => outbox.wake());
      return transition;
    },
  });
  const deps: EventDeps = {
    config,
    store,
    clock,
    log: log.child({ component: 'events' }),
    onOutcome: () => {
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
    onQueued: () => {
      runner.wake();
      outbox.wake();
    },
  });

  return {
    config,
    store,
    smtp,
    http,
    async stop(graceMs) {
      await smtp.close(Math.min(graceMs, 5 * MINUTE));
      clearInterval(sweeper);
      await runner.stop(graceMs);
      await http.close();
      await outbox.stop();
      await mailer.close();
      await telnyx.close();
      await store.close();
    },
  };
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
