import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { JobStore } from '../../src/store/jobStore.js';
import { openStore } from '../../src/store/openStore.js';
import { type PostgresSchema, withPostgres } from './postgres.js';

/** Opens stores on one fresh database per test; `open()` again gives a second instance on the same data. */
export interface StoreHarness {
  reset(): Promise<void>;
  open(): Promise<JobStore>;
  dispose(): Promise<void>;
}

/** The same store suites run on both dialects: a PostgreSQL schema of their own, or a SQLite file per test. */
export async function makeStoreHarness(dialect: 'sqlite' | 'postgres'): Promise<StoreHarness> {
  if (dialect === 'postgres') {
    const database: PostgresSchema = await withPostgres();
    return {
      reset: () => database.reset(),
      open: () => openStore(database.url),
      dispose: () => database.drop(),
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-store-'));
  let file = '';
  return {
    reset: async () => {
      file = path.join(dir, `${randomBytes(4).toString('hex')}.db`);
    },
    open: () => openStore(`sqlite:${file}`),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
