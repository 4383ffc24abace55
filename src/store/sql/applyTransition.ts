import type { Queryable } from '../db.js';
import type { Transition } from '../jobStore.js';
import {
  ATTEMPT_UPDATE_COLUMNS,
  attemptInsertValues,
  JOB_UPDATE_COLUMNS,
  newOutboxId,
  presentColumns,
} from '../transitionColumns.js';
import { forUpdate } from './dialect.js';

/**
 * Applies a transition to one job (the columns it may write are listed in transitionColumns.ts). Call it inside
 * a transaction: the job, attempt and outbox rows change together or not at all.
 *
 * With `owner`, the job is written only while `owner` holds its lease, and false comes back, with nothing
 * written, when it does not. The job row goes first, so its UPDATE (`… AND lease_owner = owner`) is at once the
 * check and the row lock for the rest; `releaseLease` folds "give the lease back" into that same UPDATE. A
 * finished job thus costs one statement per row touched: on a busy server round trips, not SQL, are the cost.
 */
export async function applyTransition(
  tx: Queryable,
  jobId: string,
  transition: Transition,
  now: number,
  options: { releaseLease?: boolean; owner?: string } = {},
): Promise<boolean> {
  if (transition.onlyIfAttemptState && !(await attemptIsIn(tx, jobId, transition.onlyIfAttemptState))) {
    // Something newer (a final event) already moved the attempt on: keep only the lease handling.
    transition = {};
  }
  if (!(await updateJob(tx, jobId, transition, now, options))) return false;
  if (transition.dropAttempt !== undefined) {
    // Only a "posting" row may go: one that Telnyx answered is a real attempt and stays on record.
    await tx.query(`DELETE FROM attempts WHERE job_id = $1 AND attempt = $2 AND state = 'posting'`, [
      jobId,
      transition.dropAttempt,
    ]);
  }
  if (transition.attempt) await upsertAttempt(tx, jobId, transition.attempt, now);
  for (const entry of transition.outbox ?? []) {
    // The unique (job_id, kind) index makes a replayed transition queue its receipt only once.
    await tx.query(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT DO NOTHING`,
      [newOutboxId(), entry.kind, jobId, JSON.stringify(entry.payload ?? {}), now],
    );
  }
  return true;
}

async function attemptIsIn(
  tx: Queryable,
  jobId: string,
  guard: NonNullable<Transition['onlyIfAttemptState']>,
): Promise<boolean> {
  // Lock the job first (the order every writer uses), then read the attempt under that lock.
  await tx.query(`SELECT 1 FROM jobs WHERE id = $1 ${forUpdate(tx)}`, [jobId]);
  const { rows } = await tx.query<{ state: string }>(
    'SELECT state FROM attempts WHERE job_id = $1 AND attempt = $2',
    [jobId, guard.attempt],
  );
  return rows[0]?.state === guard.state;
}

async function updateJob(
  tx: Queryable,
  jobId: string,
  transition: Transition,
  now: number,
  options: { releaseLease?: boolean; owner?: string },
): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [jobId];
  if (transition.job) {
    for (const column of presentColumns(transition.job, JOB_UPDATE_COLUMNS)) {
      values.push(transition.job[column]);
      sets.push(`${column} = $${values.length}`);
    }
    values.push(now);
    sets.push(`updated_at = $${values.length}`);
  }
  if (options.releaseLease) sets.push('lease_owner = NULL', 'lease_until = NULL');
  if (options.owner === undefined) {
    if (sets.length > 0) await tx.query(`UPDATE jobs SET ${sets.join(', ')} WHERE id = $1`, values);
    return true;
  }
  if (sets.length === 0) {
    // Nothing to change on the job itself (an attempt row only): lock it and check the lease holder.
    const { rows } = await tx.query<{ lease_owner: string | null }>(
      `SELECT lease_owner FROM jobs WHERE id = $1 ${forUpdate(tx)}`,
      [jobId],
    );
    return rows[0]?.lease_owner === options.owner;
  }
  values.push(options.owner);
  const { rowCount } = await tx.query(
    `UPDATE jobs SET ${sets.join(', ')} WHERE id = $1 AND lease_owner = $${values.length}`,
    values,
  );
  return rowCount === 1;
}

/**
 * Insert the attempt row, or update the columns the transition sets when it already exists: one upsert, in
 * the syntax SQLite (3.24+) and PostgreSQL share.
 */
async function upsertAttempt(
  tx: Queryable,
  jobId: string,
  attempt: NonNullable<Transition['attempt']>,
  now: number,
): Promise<void> {
  const insert = attemptInsertValues(attempt, now);
  const columns = Object.keys(insert);
  const updates = presentColumns(attempt, ATTEMPT_UPDATE_COLUMNS);
  const onConflict =
    updates.length > 0
      ? `DO UPDATE SET ${updates.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`
      : 'DO NOTHING';
  await tx.query(
    `INSERT INTO attempts (job_id, attempt, ${columns.join(', ')})
     VALUES ($1, $2, ${columns.map((_, index) => `$${index + 3}`).join(', ')})
     ON CONFLICT (job_id, attempt) ${onConflict}`,
    [jobId, attempt.attempt, ...columns.map((column) => insert[column])],
  );
}
