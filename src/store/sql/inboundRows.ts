import type { Queryable } from '../db.js';
import type { InboundFaxRow, InboundOutboxEntry } from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';

/** `partial` is a BOOLEAN on PostgreSQL and 0/1 on SQLite (which has no boolean type): always a boolean here. */
export function asInboundRow(row: InboundFaxRow): InboundFaxRow {
  return { ...row, partial: Boolean(row.partial) };
}

/**
 * Queues the mails of a received fax. Inbound outbox rows carry no job id, so the (job_id, kind) unique index
 * does not apply: the inbound row's own state change, in the same transaction, is what makes them happen once.
 */
export async function queueInboundMail(
  tx: Queryable,
  entries: InboundOutboxEntry[],
  now: number,
): Promise<void> {
  for (const entry of entries) {
    await tx.query(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES ($1, $2, NULL, $3, 'pending', $4, $4)`,
      [newOutboxId(), entry.kind, JSON.stringify(entry.payload), now],
    );
  }
}
