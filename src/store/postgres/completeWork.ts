import type { Pool } from 'pg';

import type { Transition } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';
import { withTransaction } from './transaction.js';

/**
 * Applies a worker's transition (job, attempt and outbox rows) in one transaction, only while `owner` still
 * holds the job; with `releaseLease` the lease is given back in the same UPDATE (completeWork), without it the
 * worker keeps going (applyWhileLeased, e.g. the "posting" row written before the API call).
 * Returns false, writing nothing, when the lease was lost.
 *
 * "Holds" means lease_owner = owner, as in the SQLite store: a lease that expired but that nobody took over
 * still counts (a slow API call, not a crash); only a takeover by claimJobs or leaseJob, which rewrite
 * lease_owner, or a release makes the answer false. The row lock taken by the guarded UPDATE keeps a claimer
 * from taking the job between the check and the commit (SKIP LOCKED makes it pass the row by), and a claimer
 * that locked the row first makes the UPDATE wait, then find the new owner and match nothing.
 */
export async function applyIfLeased(
  pool: Pool,
  jobId: string,
  owner: string,
  transition: Transition,
  now: number,
  releaseLease: boolean,
): Promise<boolean> {
  return withTransaction(pool, (client) =>
    applyTransition(client, jobId, transition, now, { releaseLease, owner }),
  );
}
