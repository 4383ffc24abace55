import type { JobRow } from '../jobStore.js';

/**
 * Every JobRow column, in table order. On PostgreSQL the jobs table also has `seq` (an ordering aid, see
 * migrations/postgres.ts and insertionOrder in dialect.ts), so job queries list their columns instead of
 * `SELECT *`, on both dialects.
 */
const JOB_ROW_KEYS = [
  'id',
  'message_row_id',
  'to_number',
  'from_number',
  'sender',
  'status',
  'attempt',
  'max_attempts',
  'run_at',
  'lease_owner',
  'lease_until',
  'api_error_since',
  'api_errors',
  'last_error',
  'failure_reason',
  'failure_detail',
  'pages_sent',
  'duration_secs',
  'created_at',
  'updated_at',
  'finished_at',
] as const satisfies ReadonlyArray<keyof JobRow>;

/** Fails to compile when JobRow gains a column that is missing above. */
const _everyColumn: Record<Exclude<keyof JobRow, (typeof JOB_ROW_KEYS)[number]>, never> = {};
void _everyColumn;

/** `id, message_row_id, …` for SELECT and RETURNING, optionally qualified with a table alias. */
export function jobColumns(alias?: string): string {
  return JOB_ROW_KEYS.map((key) => (alias ? `${alias}.${key}` : key)).join(', ');
}

export const JOB_COLUMNS = jobColumns();
