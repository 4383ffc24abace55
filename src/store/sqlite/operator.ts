import type Database from 'better-sqlite3';

import type { JobRow, OutboxKind, OutboxRow, WebhookEventRow } from '../jobStore.js';

/**
 * What the operator's CLI needs beyond the workers' operations (`faxbridge job`, `retry`, `cancel`): reading
 * one job's whole history, taking one job's lease on purpose, and queuing a new job from a finished one.
 */
export function makeSqliteOperator(db: Database.Database) {
  const insertRetry = db.prepare(
    `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts, run_at,
       created_at, updated_at)
     SELECT @newId, message_row_id, to_number, from_number, sender, 'queued', 0, @max_attempts, @now, @now, @now
     FROM jobs WHERE id = @jobId AND status IN ('failed', 'canceled')`,
  );
  const retry = db.transaction((jobId: string, newId: string, maxAttempts: number, now: number) => {
    const inserted = insertRetry.run({ jobId, newId, max_attempts: maxAttempts, now });
    if (inserted.changes !== 1) return null;
    return db.prepare('SELECT * FROM jobs WHERE id = ?').get(newId) as JobRow;
  });

  return {
    recordReceiptBounce: (jobId: string, kind: OutboxKind, detail: string) =>
      db.prepare('UPDATE outbox SET last_error = ? WHERE job_id = ? AND kind = ?').run(detail, jobId, kind)
        .changes > 0,

    /**
     * Leases one job whatever its run_at, if it is still in progress and nobody holds a live lease on it. A
     * worker whose lease is taken this way can no longer write the job (completeWork checks the owner).
     */
    leaseJob: (jobId: string, owner: string, now: number, leaseMs: number) =>
      (db
        .prepare(
          `UPDATE jobs SET lease_owner = ?, lease_until = ?
           WHERE id = ? AND status IN ('queued', 'placed') AND (lease_until IS NULL OR lease_until < ?)
           RETURNING *`,
        )
        .get(owner, now + leaseMs, jobId, now) as JobRow | undefined) ?? null,

    /** A new queued job for the same message and number; null unless the job exists and failed or was canceled. */
    retryJob: (jobId: string, newId: string, maxAttempts: number, now: number): JobRow | null =>
      retry.immediate(jobId, newId, maxAttempts, now),

    listJobsOfMessage: (messageRowId: string) =>
      db
        .prepare('SELECT * FROM jobs WHERE message_row_id = ? ORDER BY created_at, rowid')
        .all(messageRowId) as JobRow[],

    listOutboxOfJob: (jobId: string) =>
      db
        .prepare('SELECT * FROM outbox WHERE job_id = ? ORDER BY created_at, rowid')
        .all(jobId) as OutboxRow[],

    listEventsOfFaxes(faxIds: readonly string[]): WebhookEventRow[] {
      if (faxIds.length === 0) return [];
      const placeholders = faxIds.map(() => '?').join(', ');
      return db
        .prepare(
          `SELECT * FROM webhook_events WHERE fax_id IN (${placeholders}) ORDER BY occurred_at, received_at, rowid`,
        )
        .all(...faxIds) as WebhookEventRow[];
    },
  };
}
