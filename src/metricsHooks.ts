import type { WebhookResult } from './http/telnyxWebhook.js';
import type { Clock } from './lib/clock.js';
import type { Logger } from './log.js';
import { type Metrics, observeFinal, observeTransition, reasonLabel } from './metrics.js';
import type { JobRow, JobStore, OutboxRow, Transition, WebhookEventRow } from './store/jobStore.js';
import { decodeClientState } from './telnyx/client.js';

/** The daemon's hooks (SMTP, webhook, worker, events, outbox) turned into counter and histogram updates. */
export interface MetricHooks {
  onQueued(jobs: number): void;
  onRejected(reason: string): void;
  onWebhook(result: WebhookResult): void;
  /** A worker's transition for a job as it was claimed. */
  onWorked(job: JobRow, transition: Transition | null): void;
  /** An event decision: delivered and failed outcomes are counted from the job row they produced. */
  onOutcome(outcome: string, event: WebhookEventRow): void;
  onSent(row: OutboxRow): void;
}

/** Outcomes of processEvent that end a job (domain/outboundDecision.ts). */
const FINAL_OUTCOMES = new Set(['delivered', 'failed']);

export function makeMetricHooks(deps: {
  metrics: Metrics;
  store: Pick<JobStore, 'getJob'>;
  clock: Clock;
  log: Logger;
}): MetricHooks {
  const { metrics, store, clock, log } = deps;
  return {
    onQueued(jobs) {
      metrics.smtpAccepted.inc();
      metrics.jobsAccepted.inc(jobs);
    },
    onRejected(reason) {
      metrics.smtpRejected.inc({ reason: reasonLabel(reason) });
      if (reason === 'auth_failed') metrics.smtpAuthFailures.inc({ result: 'invalid' });
      if (reason === 'auth_locked') metrics.smtpAuthFailures.inc({ result: 'locked' });
    },
    onWebhook: (result) => metrics.webhooks.inc({ result }),
    onWorked(job, transition) {
      if (transition) observeTransition(metrics, job, transition, clock.now());
    },
    onOutcome(outcome, event) {
      if (!FINAL_OUTCOMES.has(outcome)) return;
      // The event names its job in client_state (`<job-id>:<attempt>`); the row now holds the final state.
      const state = decodeClientState(clientStateOf(event));
      if (!state) return;
      store.getJob(state.jobId).then(
        (job) => {
          if (job) observeFinal(metrics, job, clock.now());
        },
        (error: unknown) => log.debug({ err: error }, 'metrics: job not readable after its final event'),
      );
    },
    onSent: (row) => metrics.mailsSent.inc({ kind: row.kind }),
  };
}

function clientStateOf(event: WebhookEventRow): string | null {
  try {
    const parsed = JSON.parse(event.payload_json) as { data?: { payload?: { client_state?: unknown } } };
    const value = parsed.data?.payload?.client_state;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}
