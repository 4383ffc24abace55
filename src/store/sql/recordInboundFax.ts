import type { Db } from '../db.js';
import type { InboundOutboxEntry, NewInboundFax } from '../jobStore.js';
import { forUpdate } from './dialect.js';
import { queueInboundMail } from './inboundRows.js';

/**
 * Records a received (or failed) inbound fax once per Telnyx fax id, with its notices and, for a webhook, the
 * event marked processed, in one transaction. The event row is locked first (as in processEvent), so two
 * instances handling copies of one event take turns.
 */
export async function recordInboundFax(
  db: Db,
  fax: NewInboundFax,
  outbox: InboundOutboxEntry[],
  eventId: string | null,
  now: number,
): Promise<'recorded' | 'duplicate'> {
  return db.transaction(async (tx) => {
    if (eventId !== null) {
      const { rows } = await tx.query<{ processed_at: number | null }>(
        `SELECT processed_at FROM webhook_events WHERE id = $1 ${forUpdate(tx)}`,
        [eventId],
      );
      // Another worker (the sweep, or a second instance) acted on this event first.
      if (rows[0] && rows[0].processed_at !== null) return 'duplicate';
    }
    const pending = fax.status === 'received';
    const { rowCount } = await tx.query(
      `INSERT INTO inbound_faxes (fax_id, status, from_number, to_number, pages, partial, duration_secs, media_url,
         failure_reason, run_at, received_at, created_at, updated_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
       ON CONFLICT (fax_id) DO NOTHING`,
      [
        fax.fax_id,
        fax.status,
        fax.from_number,
        fax.to_number,
        fax.pages,
        fax.partial,
        fax.duration_secs,
        fax.media_url,
        fax.failure_reason,
        pending ? now : null,
        fax.received_at,
        now,
        pending ? null : now,
      ],
    );
    const inserted = rowCount === 1;
    if (inserted) await queueInboundMail(tx, outbox, now);
    if (eventId !== null) {
      await tx.query(
        'UPDATE webhook_events SET processed_at = $1, outcome = $2 WHERE id = $3 AND processed_at IS NULL',
        [now, inserted ? 'inbound_recorded' : 'inbound_duplicate', eventId],
      );
    }
    return inserted ? 'recorded' : 'duplicate';
  });
}
