import type { Pool } from 'pg';

import type { OutboxRow } from '../jobStore.js';

/**
 * Leases due outbox rows (receipts, received faxes, notices) to `owner`, counting the attempt. Same shape as
 * claimJobs: SKIP LOCKED so instances share the outbox, and an expired lease is taken over.
 */
export async function claimOutbox(
  pool: Pool,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<OutboxRow[]> {
  const { rows } = await pool.query<OutboxRow>(
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

/** Only the lease holder's word counts: a row taken over after an expiry belongs to its new owner. */
export async function markOutboxSent(pool: Pool, id: string, owner: string, now: number): Promise<void> {
  await pool.query(
    `UPDATE outbox SET status = 'sent', sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL
     WHERE id = $2 AND lease_owner = $3`,
    [now, id, owner],
  );
}

/** Schedules another try at `runAt`, or gives up (`dead`) and keeps the row and its last error for operators. */
export async function markOutboxRetry(
  pool: Pool,
  id: string,
  owner: string,
  runAt: number,
  error: string,
  dead: boolean,
): Promise<void> {
  await pool.query(
    `UPDATE outbox SET status = $1, run_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL
     WHERE id = $4 AND lease_owner = $5`,
    [dead ? 'dead' : 'pending', runAt, error, id, owner],
  );
}

export async function countOutbox(pool: Pool, status: OutboxRow['status']): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE status = $1', [
    status,
  ]);
  return rows[0]?.n ?? 0;
}
