/**
 * `EventDeps.onInbound`: acts on webhook events with `direction: inbound` (docs/telnyx.md §5.2).
 * `fax.received` and `fax.failed` become an `inbound_faxes` row, recorded in the same transaction that marks
 * the event processed; the progress events (`fax.receiving.started`, `fax.media.processing.started`) need
 * nothing but to be marked processed. The download itself is the inbound worker's, driven by the row.
 */
import type { WebhookEventRow } from '../store/jobStore.js';
import { inboundFromPayload, type RecordDeps, recordInbound } from './recordInbound.js';

const FINAL_EVENTS = new Set(['fax.received', 'fax.failed']);

export function makeInboundEventHandler(
  deps: RecordDeps,
): (event: WebhookEventRow, payload: Record<string, unknown>) => Promise<string> {
  return async (event, payload) => {
    const { store, clock } = deps;
    const fax = FINAL_EVENTS.has(event.event_type)
      ? inboundFromPayload(event.event_type, payload, event.occurred_at, clock.now())
      : null;
    if (fax) {
      const result = await recordInbound(deps, fax, event.id);
      return result === 'recorded' ? 'inbound_recorded' : 'inbound_duplicate';
    }
    const outcome = FINAL_EVENTS.has(event.event_type) ? 'inbound_unreadable' : 'inbound_progress';
    if (outcome === 'inbound_unreadable') {
      deps.log.warn({ event: event.id, type: event.event_type }, 'inbound event without a fax id; ignored');
    }
    const decision = await store.processEvent(
      event.id,
      { jobId: null, attempt: null, faxId: null },
      () => ({ outcome }),
      clock.now(),
    );
    return decision?.outcome ?? 'inbound_duplicate';
  };
}
