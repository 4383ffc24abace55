import type { Ctx } from '../context.js';
import { decideOutbound, statusOfEvent } from '../domain/outboundDecision.js';
import { coerceError } from '../errors.js';
import { outboundPolicy } from '../jobs/sendFax.js';
import type { WebhookEventRow } from '../store/jobStore.js';
import { decodeClientState } from '../telnyx/client.js';

export interface EventDeps extends Pick<Ctx, 'config' | 'store' | 'clock' | 'log'> {
  /** Inbound events (fax.received…) are handed on; outbound ones are decided here. */
  onInbound?: (event: WebhookEventRow, payload: Record<string, unknown>) => Promise<string>;
  onOutcome?: (outcome: string, event: WebhookEventRow) => void;
}

/**
 * Acts on one recorded event exactly once (the store marks it processed in the same transaction), and writes
 * the event's one info line: what it was, the fax and job it concerns, and what it did. `payload` is the
 * event's `data.payload` when the caller has it parsed already (the webhook route does); the sweep reads it
 * from the stored row.
 */
export async function processEvent(
  deps: EventDeps,
  event: WebhookEventRow,
  payload: Record<string, unknown> = payloadOf(event),
): Promise<string | null> {
  const { store, clock, log, config } = deps;
  if (payload.direction === 'inbound') {
    const outcome = await processInbound(deps, event, payload);
    // A received or failed fax newly recorded has its own line, from inbound (src/inbound/recordInbound.ts).
    if (outcome !== null && outcome !== 'inbound_recorded') {
      const fax = stringOrNull(payload.fax_id) ?? event.fax_id;
      log.info({ event: event.id, type: event.event_type, fax, outcome }, 'webhook event processed');
    }
    return outcome;
  }
  const state = decodeClientState(typeof payload.client_state === 'string' ? payload.client_state : null);
  const faxId = typeof payload.fax_id === 'string' ? payload.fax_id : event.fax_id;
  const status = statusOfEvent(event.event_type);
  const decision = await store.processEvent(
    event.id,
    { jobId: state?.jobId ?? null, attempt: state?.attempt ?? null, faxId },
    ({ job, attempt }) =>
      status === null
        ? { outcome: 'ignored' }
        : decideOutbound(
            job,
            attempt,
            {
              faxId: faxId ?? '',
              status,
              failureReason: stringOrNull(payload.failure_reason),
              pages: numberOrNull(payload.page_count),
              durationSecs: numberOrNull(payload.call_duration_secs),
            },
            outboundPolicy(config),
            clock.now(),
          ),
    clock.now(),
  );
  if (!decision) return null;
  const fields = {
    event: event.id,
    type: event.event_type,
    fax: faxId,
    job: state?.jobId,
    outcome: decision.outcome,
  };
  if (decision.outcome === 'unknown_fax') log.warn(fields, 'event for a fax we do not know');
  else log.info(fields, 'webhook event processed');
  deps.onOutcome?.(decision.outcome, event);
  return decision.outcome;
}

async function processInbound(
  deps: EventDeps,
  event: WebhookEventRow,
  payload: Record<string, unknown>,
): Promise<string | null> {
  if (deps.onInbound) return deps.onInbound(event, payload);
  const skipped = await deps.store.processEvent(
    event.id,
    { jobId: null, attempt: null, faxId: null },
    () => ({ outcome: 'inbound_not_handled' }),
    deps.clock.now(),
  );
  return skipped?.outcome ?? null;
}

/** Processes whatever was recorded but not acted on (a crash between the 200 and the work). */
export async function processPendingEvents(deps: EventDeps, limit = 100): Promise<number> {
  const pending = await deps.store.listUnprocessedEvents(limit);
  for (const event of pending) {
    try {
      await processEvent(deps, event);
    } catch (error) {
      deps.log.error({ err: coerceError(error), event: event.id }, 'event processing failed; will retry');
    }
  }
  return pending.length;
}

export function payloadOf(event: WebhookEventRow): Record<string, unknown> {
  try {
    const parsed = JSON.parse(event.payload_json) as { data?: { payload?: unknown } };
    const payload = parsed.data?.payload;
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
