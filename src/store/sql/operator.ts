import type { Queryable } from '../db.js';
import type { JobRow, OutboxKind, OutboxRow, WebhookEventRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';
import { JOB_COLUMNS } from './jobColumns.js';

/*
 * What the operator's CLI needs beyond the workers' operations (`faxbridge job`, `retry`, `cancel`): reading
 * one job's whole history, taking one job's lease on purpose, and queuing a new job from a finished one.
 * Each is one statement, atomic on its own.
 */

/**
 * Leases one job whatever its run_at, if it is still in progress and nobody holds a live lease on it. On
 * PostgreSQL the UPDATE waits for a claimer that has the row locked, then re-checks the lease, so it never
 * steals a lease taken a moment ago; a worker whose expired lease is taken this way can no longer write the job.
 */
export async function leaseJob(
  db: Queryable,
  jobId: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(
    `UPDATE jobs SET lease_owner = $1, lease_until = $2
     WHERE id = $3 AND status IN ('queued', 'placed') AND (lease_until IS NULL OR lease_until < $4)
     RETURNING ${JOB_COLUMNS}`,
    [owner, now + leaseMs, jobId, now],
  );
  return rows[0] ?? null;
}

/** A new queued job for the same message and number; null unless the job exists and failed or was canceled. */
export async function retryJob(
  db: Queryable,
  jobId: string,
  newId: string,
  maxAttempts: number,
  now: number,
): Promise<JobRow | null> {
  const { rows } = await db.query<JobRow>(
    `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts, run_at,
       created_at, updated_at)
     SELECT $1, message_row_id, to_number, from_number, sender, 'queued', 0, $2, $3, $3, $3
     FROM jobs WHERE id = $4 AND status IN ('failed', 'canceled')
     RETURNING ${JOB_COLUMNS}`,
    [newId, maxAttempts, now, jobId],
  );
  return rows[0] ?? null;
}

export async function listJobsOfMessage(db: Queryable, messageRowId: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE message_row_id = $1 ORDER BY created_at, ${insertionOrder(db, 'jobs')}`,
    [messageRowId],
  );
  return rows;
}

export async function listOutboxOfJob(db: Queryable, jobId: string): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT * FROM outbox WHERE job_id = $1 ORDER BY created_at, ${insertionOrder(db, 'outbox')}`,
    [jobId],
  );
  return rows;
}

/** In the order they occurred. The IN list has one placeholder per id (a job has a handful of faxes). */
export async function listEventsOfFaxes(
  db: Queryable,
  faxIds: readonly string[],
): Promise<WebhookEventRow[]> {
  if (faxIds.length === 0) return [];
  const placeholders = faxIds.map((_, index) => `$${index + 1}`).join(', ');
  const { rows } = await db.query<WebhookEventRow>(
    `SELECT * FROM webhook_events WHERE fax_id IN (${placeholders})
     ORDER BY occurred_at, received_at, ${insertionOrder(db, 'webhook_events')}`,
    faxIds,
  );
  return rows;
}

/** Notes on a sent receipt that it bounced; false when there is no such receipt. */
export async function recordReceiptBounce(
  db: Queryable,
  jobId: string,
  kind: OutboxKind,
  detail: string,
): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE outbox SET last_error = $1 WHERE job_id = $2 AND kind = $3', [
    detail,
    jobId,
    kind,
  ]);
  return rowCount > 0;
}
