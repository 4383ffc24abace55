import { FaxError } from '../errors.js';
import type { JobStore } from './jobStore.js';
import { openPostgresStore, type PostgresStoreOptions } from './postgres/openPostgresStore.js';
import { openSqliteStore } from './sqlite/openSqliteStore.js';

export type OpenStoreOptions = PostgresStoreOptions;

/**
 * Picks the store from `database.url`: `sqlite:PATH` (embedded default, one machine) or
 * `postgres://user:pass@host:5432/db[?schema=NAME&pool_max=N]` (several instances; see
 * postgres/connectionConfig.ts for the query parameters).
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<JobStore> {
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url, options);
  throw new FaxError('config', 'database.url must be sqlite:PATH or postgres://…');
}
