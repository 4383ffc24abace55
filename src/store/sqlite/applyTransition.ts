import { randomBytes } from 'node:crypto';

import type Database from 'better-sqlite3';

import type { AttemptUpdate, JobUpdate, Transition } from '../jobStore.js';

/** Column lists are fixed here, so the only values interpolated into SQL are these known identifiers. */
const JOB_COLUMNS: ReadonlyArray<keyof JobUpdate> = [
  'status',
  'run_at',
  'attempt',
  'last_error',
  'api_error_since',
  'api_errors',
  'failure_reason',
  'failure_detail',
  'pages_sent',
  'duration_secs',
  'finished_at',
];
const ATTEMPT_COLUMNS: ReadonlyArray<keyof AttemptUpdate> = [
  'state',
  'fax_id',
  'fax_status',
  'placed_at',
  'last_event_at',
  'ended_at',
  'failure_reason',
  'pages',
  'duration_secs',
];

export function newOutboxId(): string {
  return `ob_${randomBytes(12).toString('base64url')}`;
}

/** Applies a transition to one job; call inside a transaction. */
export function applyTransition(
  db: Database.Database,
  jobId: string,
  transition: Transition,
  now: number,
): void {
  if (transition.job) {
    const columns = JOB_COLUMNS.filter((column) => transition.job![column] !== undefined);
    const sets = [...columns.map((c) => `${c} = @${c}`), 'updated_at = @now'].join(', ');
    db.prepare(`UPDATE jobs SET ${sets} WHERE id = @jobId`).run({
      ...pick(transition.job, columns),
      now,
      jobId,
    });
  }
  if (transition.dropAttempt !== undefined) {
    db.prepare(`DELETE FROM attempts WHERE job_id = ? AND attempt = ? AND state = 'posting'`).run(
      jobId,
      transition.dropAttempt,
    );
  }
  const attempt = transition.attempt;
  if (attempt) {
    const exists = db
      .prepare(`SELECT 1 FROM attempts WHERE job_id = ? AND attempt = ?`)
      .get(jobId, attempt.attempt);
    const columns = ATTEMPT_COLUMNS.filter((column) => attempt[column] !== undefined);
    if (exists) {
      if (columns.length > 0) {
        const sets = columns.map((c) => `${c} = @${c}`).join(', ');
        db.prepare(`UPDATE attempts SET ${sets} WHERE job_id = @jobId AND attempt = @attempt`).run({
          ...pick(attempt, columns),
          jobId,
          attempt: attempt.attempt,
        });
      }
    } else {
      const all = [...new Set(['state', 'client_state', 'started_at', ...columns])];
      db.prepare(
        `INSERT INTO attempts (job_id, attempt, ${all.join(', ')}) VALUES (@jobId, @attempt, ${all.map((c) => `@${c}`).join(', ')})`,
      ).run({
        ...pick(attempt, columns),
        state: attempt.state ?? 'posting',
        client_state: attempt.client_state ?? '',
        started_at: attempt.started_at ?? now,
        jobId,
        attempt: attempt.attempt,
      });
    }
  }
  for (const entry of transition.outbox ?? []) {
    // The unique (job_id, kind) index makes a replayed transition queue its receipt only once.
    db.prepare(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
    ).run(newOutboxId(), entry.kind, jobId, JSON.stringify(entry.payload ?? {}), now, now);
  }
}

function pick<T extends object>(source: T, keys: ReadonlyArray<keyof T>): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, source[key]]));
}
