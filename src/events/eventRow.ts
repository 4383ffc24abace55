import type { TelnyxEvent } from '../http/telnyxWebhook.js';
import type { WebhookEventRow } from '../store/jobStore.js';

export type NewEventRow = Omit<WebhookEventRow, 'processed_at' | 'outcome'>;

/** The row a verified webhook event is recorded as; the whole envelope is kept for the audit trail. */
export function eventRow(event: TelnyxEvent, now: number): NewEventRow {
  return {
    id: event.id,
    event_type: event.eventType,
    fax_id: typeof event.payload.fax_id === 'string' ? event.payload.fax_id : null,
    occurred_at: event.occurredAt,
    received_at: now,
    payload_json: JSON.stringify(event.raw),
  };
}
