import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { Db } from '../../src/store/db.js';
import { makeJobStore } from '../../src/store/makeJobStore.js';
import { openPostgresDb } from '../../src/store/postgres/postgresDb.js';
import { dumpSchema } from '../../src/store/schemaDump.js';
import { openSqliteDb } from '../../src/store/sqlite/sqliteDb.js';
import { postgresReachable, TEST_POSTGRES_URL, withPostgres } from '../helpers/postgres.js';

/*
 * The committed schema dumps (src/store/schema/*.sql) are what the migrations produce on a fresh database.
 * A migration edited after it shipped, or a new one without a fresh `npm run schema:dump`, fails here.
 */
const postgresUp = await postgresReachable();
if (!postgresUp) console.warn(`PostgreSQL schema test skipped: ${TEST_POSTGRES_URL} is not reachable`);

const committed = (dialect: string) =>
  readFileSync(new URL(`../../src/store/schema/${dialect}.sql`, import.meta.url), 'utf8');

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function migratedTwice(db: Db, schema: string | null = null): Promise<string> {
  const store = makeJobStore(db, { schema });
  await store.migrate();
  // A second run applies nothing and changes nothing.
  await store.migrate();
  return dumpSchema(db);
}

describe('migrations produce the committed schema dump', () => {
  it('on SQLite', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-schema-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openSqliteDb(path.join(dir, 'fresh.db'));
    cleanups.push(() => db.close());
    expect(await migratedTwice(db)).toBe(committed('sqlite'));
  });

  it.skipIf(!postgresUp)('on PostgreSQL', async () => {
    const database = await withPostgres();
    cleanups.push(() => database.drop());
    const { db, schema } = openPostgresDb(database.url);
    cleanups.push(() => db.close());
    expect(await migratedTwice(db, schema)).toBe(committed('postgres'));
  });
});
