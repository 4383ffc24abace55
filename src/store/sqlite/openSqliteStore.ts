import type { JobStore } from '../jobStore.js';
import { makeJobStore } from '../makeJobStore.js';
import { openSqliteDb } from './sqliteDb.js';

/**
 * The embedded store (`database.url: sqlite:PATH`): one file that one daemon owns, migrated and ready.
 * Durability and locking live in sqliteDb.ts; the operations are the shared ones (src/store/sql).
 */
export async function openSqliteStore(file: string): Promise<JobStore> {
  const db = openSqliteDb(file);
  const store = makeJobStore(db);
  try {
    await store.migrate();
  } catch (error) {
    await db.close();
    throw error;
  }
  return store;
}
