import type Database from 'better-sqlite3';

import type { AttemptRow, JobFilter, JobRow, JobStatus, Transition } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';

export function makeSqliteJobs(db: Database.Database) {
  // SQLite has one writer and no SKIP LOCKED: an IMMEDIATE transaction makes select-then-lease atomic.
  const claim = db.transaction((owner: string, now: number, leaseMs: number, limit: number): JobRow[] => {
    const due = db
      .prepare(
        `SELECT id FROM jobs
         WHERE status IN ('queued', 'placed') AND run_at IS NOT NULL AND run_at <= ?
           AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY run_at, rowid LIMIT ?`,
      )
      .all(now, now, limit) as Array<{ id: string }>;
    const lease = db.prepare(`UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id = ? RETURNING *`);
    return due.map(({ id }) => lease.get(owner, now + leaseMs, id) as JobRow);
  });

  const holds = db.prepare(`SELECT 1 FROM jobs WHERE id = ? AND lease_owner = ? AND lease_until >= ?`);

  const complete = db.transaction(
    (jobId: string, owner: string, transition: Transition, now: number, release: boolean): boolean => {
      // A lease that expired and was taken by another worker must not be written through.
      if (!holds.get(jobId, owner, now) && !holdsExpiredButUntaken(jobId, owner)) return false;
      applyTransition(db, jobId, transition, now);
      if (release) {
        db.prepare(`UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ?`).run(jobId);
      }
      return true;
    },
  );

  /** Our lease ran out but nobody took the job over: still ours to finish (a slow API call, not a crash). */
  function holdsExpiredButUntaken(jobId: string, owner: string): boolean {
    return Boolean(db.prepare(`SELECT 1 FROM jobs WHERE id = ? AND lease_owner = ?`).get(jobId, owner));
  }

  return {
    claimJobs: (owner: string, now: number, leaseMs: number, limit: number) =>
      claim.immediate(owner, now, leaseMs, limit),

    renewLease: (jobId: string, owner: string, until: number) =>
      db.prepare(`UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?`).run(until, jobId, owner)
        .changes === 1,

    completeWork: (jobId: string, owner: string, transition: Transition, now: number) =>
      complete.immediate(jobId, owner, transition, now, true),

    applyWhileLeased: (jobId: string, owner: string, transition: Transition, now: number) =>
      complete.immediate(jobId, owner, transition, now, false),

    getJob: (id: string) =>
      (db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined) ?? null,

    listAttempts: (jobId: string) =>
      db.prepare('SELECT * FROM attempts WHERE job_id = ? ORDER BY attempt').all(jobId) as AttemptRow[],

    listJobs: (filter: JobFilter) =>
      (filter.status
        ? db
            .prepare('SELECT * FROM jobs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?')
            .all(filter.status, filter.limit ?? 100)
        : db
            .prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?')
            .all(filter.limit ?? 100)) as JobRow[],

    countJobs: (status: JobStatus) =>
      (db.prepare('SELECT count(*) AS n FROM jobs WHERE status = ?').get(status) as { n: number }).n,
  };
}
