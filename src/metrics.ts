import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { JobRow, JobStore, Transition } from './store/jobStore.js';

/*
 * Prometheus metrics (docs/behaviour.md §8). One Registry per daemon, never prom-client's global one: tests
 * run several daemons in one process, and a module-level registry would mix their counts.
 */

export interface Metrics {
  registry: Registry;
  /** Messages answered 250 with at least one fax job. */
  smtpAccepted: Counter;
  /** Fax jobs created (one per recipient number of an accepted message). */
  jobsAccepted: Counter;
  /** Refusals by stable reason label (relay_denied, bad_number, too_large, no_pdf, bad_pdf, unavailable…). */
  smtpRejected: Counter<'reason'>;
  /** SMTP AUTH refused: `invalid` (wrong user or password) or `locked` (after too many failures). */
  smtpAuthFailures: Counter<'result'>;
  /** Faxes Telnyx accepted (POST /faxes answered 202), retries included. */
  faxAttempts: Counter;
  faxesDelivered: Counter;
  /** Jobs that ended failed, by Telnyx failure_reason or our own code (api_rejected, document_missing…). */
  faxesFailed: Counter<'reason'>;
  /** Webhook answers: accepted, duplicate, bad_signature, stale_timestamp, bad_request, too_large, unavailable… */
  webhooks: Counter<'result'>;
  /** Received faxes recorded (wired by the inbound path). */
  inboundReceived: Counter;
  /** Received faxes for a number with no route and no "*" route (they go to `admin`). */
  inboundUnrouted: Counter;
  /** Mails the outbox handed to the relay (or wrote as .eml), by kind. */
  mailsSent: Counter<'kind'>;
  /** Accepted by SMTP → accepted by Telnyx, first attempt only (retries would measure the retry delays). */
  acceptToTelnyxSeconds: Histogram;
  /** Accepted by SMTP → delivered, retries included. */
  acceptToDeliveredSeconds: Histogram;
}

/** What the depth gauges read at scrape time. */
export type DepthSource = Pick<JobStore, 'countJobs' | 'countOutbox'>;

export interface MetricsOptions {
  /** Store to read queue and outbox depth from; without it the depth gauges stay at 0. */
  store?: DepthSource;
  /** Called when a scrape-time store read fails (the gauges keep their last value). */
  onCollectError?: (error: unknown) => void;
}

/** Seconds. Telnyx answers a POST in well under a second; a backlog or API errors push it to minutes. */
const ACCEPT_TO_TELNYX_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];
/** Seconds. A page takes about a minute to transmit; busy/no-answer retries wait minutes each. */
const ACCEPT_TO_DELIVERED_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
/** failure_reason comes from Telnyx and could be anything; keep the label set bounded. */
const LABEL_VALUE = /^[a-z][a-z0-9_]{0,63}$/;

export function makeMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });

  const webhooks = counter('faxbridge_webhooks_total', 'Telnyx webhook requests by answer', ['result']);
  // Present from the first scrape, so rate() and alerts work before the first webhook arrives.
  for (const result of ['accepted', 'duplicate', 'bad_signature']) webhooks.inc({ result }, 0);

  const store = options.store;
  new Gauge({
    name: 'faxbridge_queue_depth',
    help: 'Fax jobs waiting to be sent (queued) or in progress at Telnyx (placed)',
    labelNames: ['status'],
    registers,
    async collect() {
      if (!store) return;
      try {
        const [queued, placed] = await Promise.all([store.countJobs('queued'), store.countJobs('placed')]);
        this.set({ status: 'queued' }, queued);
        this.set({ status: 'placed' }, placed);
      } catch (error) {
        options.onCollectError?.(error);
      }
    },
  });
  new Gauge({
    name: 'faxbridge_outbox_depth',
    help: 'Outgoing mails (receipts, received faxes, notices) not yet sent (pending) or given up (dead)',
    labelNames: ['status'],
    registers,
    async collect() {
      if (!store) return;
      try {
        const [pending, dead] = await Promise.all([store.countOutbox('pending'), store.countOutbox('dead')]);
        this.set({ status: 'pending' }, pending);
        this.set({ status: 'dead' }, dead);
      } catch (error) {
        options.onCollectError?.(error);
      }
    },
  });

  return {
    registry,
    smtpAccepted: counter('faxbridge_smtp_accepted_total', 'Messages accepted (250) with fax jobs'),
    jobsAccepted: counter('faxbridge_jobs_accepted_total', 'Fax jobs accepted, one per recipient number'),
    smtpRejected: counter('faxbridge_smtp_rejected_total', 'SMTP refusals by reason', ['reason']),
    smtpAuthFailures: counter('faxbridge_smtp_auth_failures_total', 'SMTP AUTH attempts refused, by result', [
      'result',
    ]),
    faxAttempts: counter('faxbridge_fax_attempts_total', 'Faxes placed with Telnyx (retries included)'),
    faxesDelivered: counter('faxbridge_faxes_delivered_total', 'Fax jobs delivered'),
    faxesFailed: counter('faxbridge_faxes_failed_total', 'Fax jobs that finally failed, by reason', [
      'reason',
    ]),
    webhooks,
    inboundReceived: counter('faxbridge_inbound_received_total', 'Received faxes recorded'),
    inboundUnrouted: counter('faxbridge_inbound_unrouted_total', 'Received faxes for a number with no route'),
    mailsSent: counter('faxbridge_mails_sent_total', 'Mails sent from the outbox, by kind', ['kind']),
    acceptToTelnyxSeconds: new Histogram({
      name: 'faxbridge_accept_to_telnyx_seconds',
      help: 'Time from SMTP acceptance to Telnyx accepting the first attempt',
      buckets: ACCEPT_TO_TELNYX_BUCKETS,
      registers,
    }),
    acceptToDeliveredSeconds: new Histogram({
      name: 'faxbridge_accept_to_delivered_seconds',
      help: 'Time from SMTP acceptance to delivery, retries included',
      buckets: ACCEPT_TO_DELIVERED_BUCKETS,
      registers,
    }),
  };
}

/** A bounded label value: known-looking codes pass, anything else is `other`. */
export function reasonLabel(reason: string | null | undefined): string {
  return reason && LABEL_VALUE.test(reason) ? reason : reason ? 'other' : 'unknown';
}

/**
 * Counts what a worker's transition does to a job: a fax placed, a delivery found by polling, a final failure.
 * Called with the job as claimed (before the transition), so `created_at` and the attempt number are known.
 */
export function observeTransition(metrics: Metrics, job: JobRow, transition: Transition, now: number): void {
  const placed = transition.attempt?.state === 'placed' && transition.job?.status === 'placed';
  if (placed) {
    metrics.faxAttempts.inc();
    if (transition.attempt!.attempt === 1)
      metrics.acceptToTelnyxSeconds.observe(seconds(now - job.created_at));
  }
  observeFinal(metrics, { ...job, ...transition.job } as JobRow, now);
}

/** Counts a job that just reached delivered or failed (from a webhook event, polling or the CLI). */
export function observeFinal(
  metrics: Metrics,
  job: Pick<JobRow, 'status' | 'created_at' | 'failure_reason'> & {
    finished_at?: number | null;
  },
  now: number,
): void {
  if (job.status === 'delivered') {
    metrics.faxesDelivered.inc();
    metrics.acceptToDeliveredSeconds.observe(seconds((job.finished_at ?? now) - job.created_at));
  } else if (job.status === 'failed') {
    metrics.faxesFailed.inc({ reason: reasonLabel(job.failure_reason) });
  }
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
