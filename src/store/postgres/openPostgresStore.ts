import type { JobStore } from '../jobStore.js';
import { makeJobStore } from '../makeJobStore.js';
import { openPostgresDb, type PostgresDbOptions } from './postgresDb.js';

export interface PostgresStoreOptions extends PostgresDbOptions {
  /** Clock for schema_migrations.applied_at. */
  now?: () => number;
}

/**
 * The shared store for several instances: one pg Pool per instance, migrations under an advisory lock at open,
 * jobs and outbox rows claimed with FOR UPDATE SKIP LOCKED under leases, webhook events processed once under a
 * row lock. `database.url` may carry `?schema=NAME` (connectionConfig.ts). Like the SQLite store, the returned
 * store is migrated and ready; migrate() may be called again (a no-op).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<JobStore> {
  const { db, schema } = openPostgresDb(url, options);
  const store = makeJobStore(db, { schema, now: options.now });
  try {
    await store.migrate();
  } catch (error) {
    await db.close();
    throw error;
  }
  return store;
}
