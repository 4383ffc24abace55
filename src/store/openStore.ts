import { FaxError } from '../errors.js';
import type { JobStore } from './jobStore.js';
import { openSqliteStore } from './sqlite/openSqliteStore.js';

/** Picks the store from `database.url`: `sqlite:PATH` (embedded default) or `postgres://…`. */
export async function openStore(url: string): Promise<JobStore> {
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length));
  throw new FaxError('config', `database.url ${url.split('@').pop()}: PostgreSQL support is not built yet`);
}
