import type { Db, Queryable } from '../db.js';
import type { InboundFaxRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';
import { asInboundRow } from './inboundRows.js';

/**
 * Leases due downloads (`received` rows whose run_at has come and whose lease is free or expired) and counts
 * an attempt on each. Same shape as claimJobs: SKIP LOCKED on PostgreSQL, an IMMEDIATE transaction on SQLite.
 */
export async function claimInboundFaxes(
  db: Db,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<InboundFaxRow[]> {
  if (db.dialect === 'postgres') {
    const { rows } = await db.query<InboundFaxRow>(
      `WITH next AS (
         SELECT fax_id FROM inbound_faxes
         WHERE status = 'received' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
         ORDER BY run_at, fax_id
         LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE inbound_faxes f SET lease_owner = $2, lease_until = $3, attempts = f.attempts + 1, updated_at = $1
         FROM next WHERE f.fax_id = next.fax_id
         RETURNING f.*
       )
       SELECT * FROM leased ORDER BY run_at, fax_id`,
      [now, owner, now + leaseMs, limit],
    );
    return rows.map(asInboundRow);
  }
  return db.transaction(async (tx) => {
    const { rows: due } = await tx.query<{ fax_id: string }>(
      `SELECT fax_id FROM inbound_faxes
       WHERE status = 'received' AND run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY run_at, ${insertionOrder(tx, 'inbound_faxes')} LIMIT $2`,
      [now, limit],
    );
    const leased: InboundFaxRow[] = [];
    for (const { fax_id } of due) {
      const { rows } = await tx.query<InboundFaxRow>(
        `UPDATE inbound_faxes SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
         WHERE fax_id = $4 RETURNING *`,
        [owner, now + leaseMs, now, fax_id],
      );
      leased.push(asInboundRow(rows[0]!));
    }
    return leased;
  });
}

export async function getInboundFax(db: Queryable, faxId: string): Promise<InboundFaxRow | null> {
  const { rows } = await db.query<InboundFaxRow>('SELECT * FROM inbound_faxes WHERE fax_id = $1', [faxId]);
  return rows[0] ? asInboundRow(rows[0]) : null;
}
