import type Database from 'better-sqlite3';

import type { Transition } from '../jobStore.js';
import {
  ATTEMPT_UPDATE_COLUMNS,
  attemptInsertValues,
  JOB_UPDATE_COLUMNS,
  newOutboxId,
  presentColumns,
} from '../transitionColumns.js';

export { newOutboxId };

/** Applies a transition to one job; call inside a transaction. */
export function applyTransition(
  db: Database.Database,
  jobId: string,
  transition: Transition,
  now: number,
): boolean {
  const guard = transition.onlyIfAttemptState;
  if (guard) {
    const current = db
      .prepare('SELECT state FROM attempts WHERE job_id = ? AND attempt = ?')
      .get(jobId, guard.attempt) as { state: string } | undefined;
    if (current?.state !== guard.state) return false;
  }
  if (transition.job) {
    const columns = presentColumns(transition.job, JOB_UPDATE_COLUMNS);
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
    if (exists) {
      const columns = presentColumns(attempt, ATTEMPT_UPDATE_COLUMNS);
      if (columns.length > 0) {
        const sets = columns.map((c) => `${c} = @${c}`).join(', ');
        db.prepare(`UPDATE attempts SET ${sets} WHERE job_id = @jobId AND attempt = @attempt`).run({
          ...pick(attempt, columns),
          jobId,
          attempt: attempt.attempt,
        });
      }
    } else {
      const values = attemptInsertValues(attempt, now);
      const all = Object.keys(values);
      db.prepare(
        `INSERT INTO attempts (job_id, attempt, ${all.join(', ')}) VALUES (@jobId, @attempt, ${all.map((c) => `@${c}`).join(', ')})`,
      ).run({ ...values, jobId, attempt: attempt.attempt });
    }
  }
  for (const entry of transition.outbox ?? []) {
    // The unique (job_id, kind) index makes a replayed transition queue its receipt only once.
    db.prepare(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
    ).run(newOutboxId(), entry.kind, jobId, JSON.stringify(entry.payload ?? {}), now, now);
  }
  return true;
}

function pick<T extends object>(source: T, keys: ReadonlyArray<keyof T>): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, source[key]]));
}
