import { stat } from 'node:fs/promises';
import path from 'node:path';

import { type DocumentStorage } from './blobs/documentStorage.js';
import { openStorage } from './blobs/openStorage.js';
import { loadUrlSecret } from './blobs/urlSecret.js';
import type { Config } from './config/loadConfig.js';
import type { DaemonEvents } from './daemonEvents.js';
import type { MimeReadersOptions } from './documents/mimeReaders/mimeReaders.js';
import { coerceError } from './errors.js';
import { type Clock, systemClock } from './lib/clock.js';
import { type EventBus, makeEventBus } from './lib/eventBus.js';
import { makePrivateDir, tightenTree } from './lib/privateFiles.js';
import { makeUrlSigner, type UrlSigner } from './lib/urlSigner.js';
import type { Logger } from './log.js';
import { type Mailer, makeMailer } from './mail/mailer.js';
import { makeMetrics, type Metrics } from './metrics.js';
import type { DnsResolver } from './smtp/senderAuth.js';
import type { JobStore } from './store/jobStore.js';
import { openStore } from './store/openStore.js';
import { makeTelnyxClient, type TelnyxClient } from './telnyx/client.js';
import { withRateLimitGate } from './telnyx/rateLimitGate.js';

/**
 * What the daemon's components share, built once by `makeCtx` and passed first to every `start*`. Nothing
 * here is a module singleton, so each test builds its own.
 */
export interface Ctx {
  /**
   * Frozen at boot, with one exception: when the HTTP listener binds port 0 and `http.public_url` was
   * derived from it, the HTTP component replaces `config` with the real URL before anything after it starts.
   */
  config: Config;
  /** The root logger; each component takes a child with its `component` name. */
  log: Logger;
  clock: Clock;
  store: JobStore;
  /** Document bytes: local disk or S3. */
  documents: DocumentStorage;
  /** Signs media and document links (HMAC with the instance's URL secret). */
  signer: UrlSigner;
  /** The instance's URL secret; the console derives its session and CSRF keys from it. */
  urlSecret: string;
  telnyx: TelnyxClient;
  /** The key webhooks are verified with: the account's, or the built-in simulator's in sandbox mode. */
  telnyxPublicKey: string;
  mailer: Mailer;
  metrics: Metrics;
  /** Wake-ups and metrics: what happened, for whoever listens. */
  events: EventBus<DaemonEvents>;
  tuning: Tuning;
}

/** Test knobs, not config keys: production leaves them all unset. */
export interface Tuning {
  /** Worker poll interval (job runner, outbox, inbound); tests shorten it. */
  pollMs?: number;
  /**
   * Base wait before resending a mail the relay deferred (production: 15 s doubling to 30 min), so
   * relay-outage tests finish in seconds.
   */
  outboxBackoffMs?: number;
  /** How often Telnyx is polled for inbound faxes whose webhook was missed (default 5 min). */
  missedFaxPollMs?: number;
  /** DNS for SPF/DKIM/DMARC checks of relayed mail (tests serve records from a table). */
  dnsResolver?: DnsResolver;
  /**
   * How long a worker's claim on a job or an outbox row lasts (production: one minute each), so that tests of
   * a crashed instance's work being taken over finish in seconds.
   */
  leaseMs?: number;
  /** Deadline for fetching one received fax (production: 5 min). */
  inboundFetchDeadlineMs?: number;
  /**
   * How long jobs are held back while mail arrives, and how long without a DATA starting or ending counts as
   * quiet (production: 10 s and 250 ms, jobs/intakeFirst.ts), so tests can tell "held" from "just slow".
   */
  intakeHold?: { holdMs?: number; quietMs?: number };
  /**
   * How often recorded webhook events are swept for any left unprocessed (production: 5 s); a test of the live
   * path sets it long so that the sweep cannot stand in for it.
   */
  eventSweepMs?: number;
  /** The MIME readers' limits (documents/mimeReaders): tests shorten the stall and idle times. */
  mimeReaders?: MimeReadersOptions;
}

export interface CtxOptions extends Tuning {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** Sandbox mode: the built-in simulator's URL and key (main starts it before the daemon). */
  telnyx?: { apiUrl: string; apiKey: string; publicKey: string };
  /** Prometheus registry and counters; one per daemon (made here when not given). */
  metrics?: Metrics;
}

/**
 * Opens what every component needs, in the order that lets nothing be accepted before it works: the
 * database (migrated, leases of a crashed run freed), document storage (pinged), then the clients.
 */
export async function makeCtx(options: CtxOptions): Promise<Ctx> {
  const { config, log } = options;
  const clock = options.clock ?? systemClock;
  await makeDataDirPrivate(config.data_dir, log);
  const store = await openStore(config.database.url, {
    onPoolError: (error) => log.warn({ err: error }, 'database connection lost; the next query reconnects'),
  });
  try {
    await store.migrate();
    const orphaned = (await store.releaseOrphanedLeases?.()) ?? 0;
    if (orphaned > 0)
      log.info({ leases: orphaned }, 'freed the work of a previous run that did not stop cleanly');
    const urlSecret = await loadUrlSecret(config.http.url_secret, config.data_dir);
    const signer = makeUrlSigner(urlSecret);
    // Read at each call: the HTTP component may replace `ctx.config` once the listener is bound.
    const documents = await openStorage({ config, publicUrl: () => ctx.config.http.public_url, signer });
    await documents.ping();
    const telnyx = options.telnyx ?? {
      apiUrl: config.telnyx.api_url,
      apiKey: config.telnyx.api_key ?? '',
      publicKey: config.telnyx.public_key ?? '',
    };
    const ctx: Ctx = {
      config,
      log,
      clock,
      store,
      documents,
      signer,
      urlSecret,
      // One gate for every worker of this instance: a 429 pauses them all (telnyx/rateLimitGate.ts).
      telnyx: withRateLimitGate(
        makeTelnyxClient({
          apiUrl: telnyx.apiUrl,
          apiKey: telnyx.apiKey,
          timeoutMs: config.telnyx.request_timeout,
        }),
      ),
      telnyxPublicKey: telnyx.publicKey,
      mailer: makeMailer({
        smtpUrl: config.mail.smtp_url ?? null,
        outboxDir: path.join(config.data_dir, 'outbox'),
        log: log.child({ component: 'mail' }),
      }),
      metrics:
        options.metrics ??
        makeMetrics({
          store,
          onCollectError: (error) => log.warn({ err: error }, 'metrics: store not readable for depth gauges'),
        }),
      events: makeEventBus<DaemonEvents>((error, name) =>
        log.error({ err: coerceError(error), event: name }, 'a listener of a daemon event failed'),
      ),
      tuning: {
        pollMs: options.pollMs,
        outboxBackoffMs: options.outboxBackoffMs,
        missedFaxPollMs: options.missedFaxPollMs,
        dnsResolver: options.dnsResolver,
        leaseMs: options.leaseMs,
        inboundFetchDeadlineMs: options.inboundFetchDeadlineMs,
        intakeHold: options.intakeHold,
        eventSweepMs: options.eventSweepMs,
        mimeReaders: options.mimeReaders,
      },
    };
    return ctx;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** Closes the clients and the database: the last step of a stop, after every component has stopped. */
export async function closeCtx(ctx: Ctx): Promise<void> {
  await ctx.mailer.close();
  await ctx.telnyx.close();
  await ctx.store.close();
}

/**
 * Everything under data_dir is owner-only; a data dir left 0755 with 0644 files by an older version is
 * tightened once, here, and the log says so. Once data_dir itself is owner-only (made so by that first pass, or
 * new), the walk over every stored document is skipped: it would cost each start time in proportion to the
 * documents kept, and whatever this version writes is owner-only already.
 */
async function makeDataDirPrivate(dataDir: string, log: Logger): Promise<void> {
  const before = await stat(dataDir).catch(() => null);
  await makePrivateDir(dataDir);
  // Made here, before SMTP spools messages into it with whatever mode the process's umask gives.
  await makePrivateDir(path.join(dataDir, 'tmp'));
  if (!before || (before.mode & 0o077) === 0) return;
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
