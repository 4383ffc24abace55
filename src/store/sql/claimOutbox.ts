import type { Db } from '../db.js';
import type { OutboxRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';

/**
 * Leases due outbox rows (receipts, received faxes, notices) to `owner`, counting the attempt. Same shape as
 * claimJobs: SKIP LOCKED on PostgreSQL so instances share the outbox, an IMMEDIATE transaction on SQLite; an
 * expired lease is taken over.
 */
export async function claimOutbox(
  db: Db,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<OutboxRow[]> {
  if (db.dialect === 'postgres') {
    const { rows } = await db.query<OutboxRow>(
      `WITH next AS (
         SELECT id FROM outbox
         WHERE status = 'pending' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
         ORDER BY run_at, id
         LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE outbox o SET lease_owner = $2, lease_until = $3, attempts = o.attempts + 1
         FROM next WHERE o.id = next.id
         RETURNING o.*
       )
       SELECT * FROM leased ORDER BY run_at, id`,
      [now, owner, now + leaseMs, limit],
    );
    return rows;
  }
  return db.transaction(async (tx) => {
    const { rows: due } = await tx.query<{ id: string }>(
      `SELECT id FROM outbox WHERE status = 'pending' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY run_at, ${insertionOrder(tx, 'outbox')} LIMIT $2`,
      [now, limit],
    );
    const leased: OutboxRow[] = [];
    for (const { id } of due) {
      const { rows } = await tx.query<OutboxRow>(
        `UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id = $3 RETURNING *`,
        [owner, now + leaseMs, id],
      );
      leased.push(rows[0]!);
    }
    return leased;
  });
}
