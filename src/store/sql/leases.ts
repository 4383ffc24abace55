import type { Queryable } from '../db.js';

/** Extends our lease; false when the job is no longer ours (released, or taken over after it expired). */
export async function renewLease(
  db: Queryable,
  jobId: string,
  owner: string,
  until: number,
): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3', [
    until,
    jobId,
    owner,
  ]);
  return rowCount === 1;
}

/**
 * Frees every lease at start-up; only for the embedded SQLite store, which one daemon owns: after a kill -9
 * its jobs, mails and downloads need not wait for their leases to run out. Never on PostgreSQL, where other
 * live instances hold leases.
 */
export async function releaseOrphanedLeases(db: Queryable): Promise<number> {
  let freed = 0;
  for (const sql of [
    'UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL',
    'UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL',
    'UPDATE inbound_faxes SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL',
  ]) {
    freed += (await db.query(sql)).rowCount;
  }
  return freed;
}
