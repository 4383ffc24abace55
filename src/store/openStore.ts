import { FaxError } from '../errors.js';
import type { JobStore } from './jobStore.js';
import type { PostgresStoreOptions } from './postgres/openPostgresStore.js';

export type OpenStoreOptions = PostgresStoreOptions;

/**
 * Picks the store from `database.url`: `sqlite:PATH` (embedded default, one machine) or
 * `postgres://user:pass@host:5432/db[?schema=NAME&pool_max=N]` (several instances; see
 * postgres/connectionConfig.ts for the query parameters).
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<JobStore> {
  // Loaded on demand: a daemon carries only the driver it uses (pg is ~10 MB of RSS it would never need).
  if (url.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/openSqliteStore.js');
    return openSqliteStore(url.slice('sqlite:'.length));
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStore } = await import('./postgres/openPostgresStore.js');
    return openPostgresStore(url, options);
  }
  throw new FaxError('config', 'database.url must be sqlite:PATH or postgres://…');
}
