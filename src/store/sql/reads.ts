import type { Queryable } from '../db.js';
import type {
  AttemptRow,
  DocumentRow,
  JobFilter,
  JobRow,
  JobStatus,
  MessageRow,
  OutboxRow,
} from '../jobStore.js';
import { insertionOrder } from './dialect.js';
import { JOB_COLUMNS } from './jobColumns.js';

/* Single-row reads, listings and counts: one statement each, no transaction. */

const DEFAULT_LIST_LIMIT = 100;

export async function getJob(db: Queryable, id: string): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function getMessage(db: Queryable, id: string): Promise<MessageRow | null> {
  const { rows } = await db.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function getDocument(db: Queryable, id: string): Promise<DocumentRow | null> {
  const { rows } = await db.query<DocumentRow>('SELECT * FROM documents WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listAttempts(db: Queryable, jobId: string): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>('SELECT * FROM attempts WHERE job_id = $1 ORDER BY attempt', [
    jobId,
  ]);
  return rows;
}

/** Newest first; jobs of one message created in the same millisecond keep their recipient order, reversed. */
export async function listJobs(db: Queryable, filter: JobFilter): Promise<JobRow[]> {
  const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
  const order = `created_at DESC, ${insertionOrder(db, 'jobs')} DESC`;
  const { rows } = filter.status
    ? await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = $1 ORDER BY ${order} LIMIT $2`, [
        filter.status,
        limit,
      ])
    : await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY ${order} LIMIT $1`, [limit]);
  return rows;
}

export async function countJobs(db: Queryable, status: JobStatus): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM jobs WHERE status = $1', [
    status,
  ]);
  return Number(rows[0]?.n ?? 0);
}

export async function countOutbox(db: Queryable, status: OutboxRow['status']): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE status = $1', [
    status,
  ]);
  return Number(rows[0]?.n ?? 0);
}
