import type { Pool } from 'pg';

import type { AttemptRow, JobFilter, JobRow, JobStatus } from '../jobStore.js';
import { JOB_COLUMNS } from './jobColumns.js';

const DEFAULT_LIST_LIMIT = 100;

export async function getJob(pool: Pool, id: string): Promise<JobRow | null> {
  const { rows } = await pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function listAttempts(pool: Pool, jobId: string): Promise<AttemptRow[]> {
  const { rows } = await pool.query<AttemptRow>('SELECT * FROM attempts WHERE job_id = $1 ORDER BY attempt', [
    jobId,
  ]);
  return rows;
}

/** Newest first; `seq` breaks ties between the jobs of one message like SQLite's rowid. */
export async function listJobs(pool: Pool, filter: JobFilter): Promise<JobRow[]> {
  const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
  const { rows } = filter.status
    ? await pool.query<JobRow>(
        `SELECT ${JOB_COLUMNS} FROM jobs WHERE status = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`,
        [filter.status, limit],
      )
    : await pool.query<JobRow>(
        `SELECT ${JOB_COLUMNS} FROM jobs ORDER BY created_at DESC, seq DESC LIMIT $1`,
        [limit],
      );
  return rows;
}

export async function countJobs(pool: Pool, status: JobStatus): Promise<number> {
  // count(*) is int8: a number here thanks to the pool's type parser (connectionConfig.ts).
  const { rows } = await pool.query<{ n: number }>('SELECT count(*) AS n FROM jobs WHERE status = $1', [
    status,
  ]);
  return rows[0]?.n ?? 0;
}

/** Extends our lease; false when the job is no longer ours (released, or taken over after it expired). */
export async function renewLease(pool: Pool, jobId: string, owner: string, until: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3',
    [until, jobId, owner],
  );
  return rowCount === 1;
}
