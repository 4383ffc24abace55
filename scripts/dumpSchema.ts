import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeJobStore } from '../src/store/makeJobStore.js';
import { openPostgresDb } from '../src/store/postgres/postgresDb.js';
import { dumpSchema } from '../src/store/schemaDump.js';
import { openSqliteDb } from '../src/store/sqlite/sqliteDb.js';
import { withPostgres } from '../test/helpers/postgres.js';

/*
 * `npm run schema:dump`: migrates a fresh SQLite file and a fresh PostgreSQL schema (the test server,
 * FB_TEST_POSTGRES_URL or 127.0.0.1:5432/test), and writes what they hold to src/store/schema/. Run it after
 * adding a migration and commit the result; test/integration/store.schema.test.ts fails until you do.
 */
const SCHEMA_DIR = fileURLToPath(new URL('../../src/store/schema/', import.meta.url));

const dir = mkdtempSync(path.join(tmpdir(), 'fb-schema-'));
const sqlite = openSqliteDb(path.join(dir, 'schema.db'));
try {
  await makeJobStore(sqlite).migrate();
  writeFileSync(path.join(SCHEMA_DIR, 'sqlite.sql'), await dumpSchema(sqlite));
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

const database = await withPostgres();
const { db: postgres, schema } = openPostgresDb(database.url);
try {
  await makeJobStore(postgres, { schema }).migrate();
  writeFileSync(path.join(SCHEMA_DIR, 'postgres.sql'), await dumpSchema(postgres));
} finally {
  await postgres.close();
  await database.drop();
}
console.info(`wrote ${SCHEMA_DIR}sqlite.sql and postgres.sql`);
