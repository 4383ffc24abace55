import type { Ctx } from './context.js';
import type { Stoppable } from './lib/stopStack.js';
import { observeFinal, observeTransition, reasonLabel } from './metrics.js';
import type { WebhookEventRow } from './store/jobStore.js';
import { decodeClientState } from './telnyx/client.js';

/** Outcomes of processEvent that end a job (domain/outboundDecision.ts). */
const FINAL_OUTCOMES = new Set(['delivered', 'failed']);

/**
 * Turns what the components say on the event bus (SMTP, webhook, worker, events, outbox, inbound) into
 * counter and histogram updates. Started first, so no event is said before it listens.
 */
export function startMetrics(ctx: Pick<Ctx, 'metrics' | 'store' | 'clock' | 'log' | 'events'>): Stoppable {
  const { metrics, store, clock, log, events } = ctx;
  const unsubscribe = [
    events.on('messageQueued', ({ jobs, via }) => {
      if (via === 'smtp') metrics.smtpAccepted.inc();
      metrics.jobsAccepted.inc(jobs);
    }),
    events.on('smtpRejected', ({ reason }) => {
      metrics.smtpRejected.inc({ reason: reasonLabel(reason) });
      if (reason === 'auth_failed') metrics.smtpAuthFailures.inc({ result: 'invalid' });
      if (reason === 'auth_locked') metrics.smtpAuthFailures.inc({ result: 'locked' });
    }),
    events.on('webhookAnswered', ({ result }) => metrics.webhooks.inc({ result })),
    events.on('jobWorked', ({ job, transition }) => {
      if (transition) observeTransition(metrics, job, transition, clock.now());
    }),
    events.on('eventDecided', ({ outcome, event }) => {
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
    }),
    events.on('mailSent', ({ row }) => metrics.mailsSent.inc({ kind: row.kind })),
    events.on('inboundReceived', () => metrics.inboundReceived.inc()),
    events.on('inboundUnrouted', () => metrics.inboundUnrouted.inc()),
  ];
  return {
    async stop() {
      for (const off of unsubscribe) off();
    },
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
