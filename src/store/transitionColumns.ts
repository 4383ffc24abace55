import { randomBytes } from 'node:crypto';

import type { AttemptUpdate, JobUpdate, Transition } from './jobStore.js';

/*
 * What a Transition may write, shared by the SQLite and PostgreSQL stores so that both dialects apply exactly
 * the same columns. The lists are fixed here, so the only names ever interpolated into SQL are these known
 * identifiers; values are always bound parameters, never interpolated.
 */

/** Job columns a transition may set; `updated_at` is always set to `now` as well. */
export const JOB_UPDATE_COLUMNS: ReadonlyArray<keyof JobUpdate> = [
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

/** Attempt columns a transition may set on an existing row (client_state and started_at are insert-only). */
export const ATTEMPT_UPDATE_COLUMNS: ReadonlyArray<keyof AttemptUpdate> = [
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

export type AttemptChange = NonNullable<Transition['attempt']>;

/** The columns of `source` that the transition actually sets (undefined means "leave as is"; null clears). */
export function presentColumns<T extends object>(
  source: T,
  columns: ReadonlyArray<keyof T>,
): Array<keyof T & string> {
  return columns.filter((column) => source[column] !== undefined) as Array<keyof T & string>;
}

/**
 * Column → value for a new attempt row: the defaults a first write needs (a "posting" row stamped `now`) plus
 * every column the transition sets.
 */
export function attemptInsertValues(attempt: AttemptChange, now: number): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const column of presentColumns(attempt, ATTEMPT_UPDATE_COLUMNS)) values[column] = attempt[column];
  return {
    ...values,
    state: attempt.state ?? 'posting',
    client_state: attempt.client_state ?? '',
    started_at: attempt.started_at ?? now,
  };
}

export function newOutboxId(): string {
  return `ob_${randomBytes(12).toString('base64url')}`;
}
