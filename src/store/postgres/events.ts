import type { Pool } from 'pg';

import type { WebhookEventRow } from '../jobStore.js';

/**
 * Records a webhook before it is acted on (product.md §5: answer fast, act later). Telnyx retries deliveries
 * and any instance may receive any of them: the event id is the key, so a second copy is reported as a
 * duplicate instead of being stored twice.
 */
export async function recordEvent(
  pool: Pool,
  event: Omit<WebhookEventRow, 'processed_at' | 'outcome'>,
): Promise<'recorded' | 'duplicate'> {
  const { rowCount } = await pool.query(
    `INSERT INTO webhook_events (id, event_type, fax_id, occurred_at, received_at, payload_json)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
    [event.id, event.event_type, event.fax_id, event.occurred_at, event.received_at, event.payload_json],
  );
  return rowCount === 1 ? 'recorded' : 'duplicate';
}

/** Oldest first, for the sweep that finishes events a crash left unprocessed. */
export async function listUnprocessedEvents(pool: Pool, limit: number): Promise<WebhookEventRow[]> {
  const { rows } = await pool.query<WebhookEventRow>(
    'SELECT * FROM webhook_events WHERE processed_at IS NULL ORDER BY received_at, id LIMIT $1',
    [limit],
  );
  return rows;
}

/** Deletes processed events received before `olderThan`; unprocessed ones are kept whatever their age. */
export async function forgetEvents(pool: Pool, olderThan: number): Promise<number> {
  const { rowCount } = await pool.query(
    'DELETE FROM webhook_events WHERE received_at < $1 AND processed_at IS NOT NULL',
    [olderThan],
  );
  return rowCount ?? 0;
}
