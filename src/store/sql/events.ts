import type { Queryable } from '../db.js';
import type { WebhookEventRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';

/**
 * Records a webhook before it is acted on (answer fast, act later). Telnyx retries deliveries and any instance
 * may receive any of them: the event id is the key, so a second copy is reported as a duplicate instead of
 * being stored twice.
 */
export async function recordEvent(
  db: Queryable,
  event: Omit<WebhookEventRow, 'processed_at' | 'outcome'>,
): Promise<'recorded' | 'duplicate'> {
  const { rowCount } = await db.query(
    `INSERT INTO webhook_events (id, event_type, fax_id, occurred_at, received_at, payload_json)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [event.id, event.event_type, event.fax_id, event.occurred_at, event.received_at, event.payload_json],
  );
  return rowCount === 1 ? 'recorded' : 'duplicate';
}

/** Oldest first, for the sweep that finishes events a crash left unprocessed. */
export async function listUnprocessedEvents(db: Queryable, limit: number): Promise<WebhookEventRow[]> {
  const { rows } = await db.query<WebhookEventRow>(
    `SELECT * FROM webhook_events WHERE processed_at IS NULL
     ORDER BY received_at, ${insertionOrder(db, 'webhook_events')} LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Deletes processed events received before `olderThan`; unprocessed ones are kept whatever their age. */
export async function forgetEvents(db: Queryable, olderThan: number): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM webhook_events WHERE received_at < $1 AND processed_at IS NOT NULL',
    [olderThan],
  );
  return rowCount;
}
