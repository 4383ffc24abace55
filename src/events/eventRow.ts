import type { TelnyxEvent } from '../http/telnyxWebhook.js';
import type { WebhookEventRow } from '../store/jobStore.js';

export type NewEventRow = Omit<WebhookEventRow, 'processed_at' | 'outcome'>;

/**
 * The row a verified webhook event is recorded as; the whole envelope is kept for the audit trail, as the
 * body's own text (it is already the envelope's JSON: stringifying the parsed copy again was pure cost).
 */
export function eventRow(event: TelnyxEvent, now: number): NewEventRow {
  return {
    id: event.id,
    event_type: event.eventType,
    fax_id: typeof event.payload.fax_id === 'string' ? event.payload.fax_id : null,
    occurred_at: event.occurredAt,
    received_at: now,
    payload_json: event.json,
  };
}
