import type { Db } from '../db.js';
import type { Transition } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';

/**
 * Applies a worker's transition (job, attempt and outbox rows) in one transaction, only while `owner` still
 * holds the job; with `releaseLease` the lease is given back in the same UPDATE (completeWork), without it the
 * worker keeps going (applyWhileLeased, e.g. the "posting" row written before the API call).
 * Returns false, writing nothing, when the lease was lost.
 *
 * "Holds" means lease_owner = owner: a lease that expired but that nobody took over still counts (a slow API
 * call, not a crash); only a takeover by claimJobs or leaseJob, which rewrite lease_owner, or a release makes
 * the answer false. On PostgreSQL the row lock taken by the guarded UPDATE keeps a claimer from taking the job
 * between the check and the commit (SKIP LOCKED makes it pass the row by), and a claimer that locked the row
 * first makes the UPDATE wait, then find the new owner and match nothing. On SQLite the IMMEDIATE transaction
 * keeps every other writer out until COMMIT.
 */
export async function applyIfLeased(
  db: Db,
  jobId: string,
  owner: string,
  transition: Transition,
  now: number,
  releaseLease: boolean,
): Promise<boolean> {
  return db.transaction((tx) => applyTransition(tx, jobId, transition, now, { releaseLease, owner }));
}
