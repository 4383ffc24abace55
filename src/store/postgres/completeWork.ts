import type { Pool, PoolClient } from 'pg';

import type { Transition } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';
import { withTransaction } from './transaction.js';

/**
 * Applies a worker's transition (job, attempt and outbox rows) in one transaction, only while `owner` still
 * holds the job; with `releaseLease` the lease is given back in the same UPDATE (completeWork), without it the
 * worker keeps going (applyWhileLeased, e.g. the "posting" row written before the API call).
 * Returns false, writing nothing, when the lease was lost.
 */
export async function applyIfLeased(
  pool: Pool,
  jobId: string,
  owner: string,
  transition: Transition,
  now: number,
  releaseLease: boolean,
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    if (!(await lockIfOwned(client, jobId, owner))) return false;
    await applyTransition(client, jobId, transition, now, { releaseLease });
    return true;
  });
}

/**
 * Locks the job row and tells whether `owner` holds it. Like the SQLite store, a lease that expired but that
 * nobody took over still counts (a slow API call, not a crash): only a takeover by claimJobs, which rewrites
 * lease_owner, or a release makes the answer false. The row lock keeps a claimer from taking the job between
 * this check and the commit; SKIP LOCKED makes it pass the row by instead of waiting.
 */
async function lockIfOwned(client: PoolClient, jobId: string, owner: string): Promise<boolean> {
  const { rows } = await client.query<{ lease_owner: string | null }>(
    'SELECT lease_owner FROM jobs WHERE id = $1 FOR UPDATE',
    [jobId],
  );
  return rows[0]?.lease_owner === owner;
}
