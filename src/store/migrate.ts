import type { Db, Dialect, Queryable } from './db.js';
import { POSTGRES_MIGRATIONS } from './migrations/postgres.js';
import { SQLITE_MIGRATIONS } from './migrations/sqlite.js';

/**
 * Key of the transaction-scoped advisory lock that serialises PostgreSQL migrations ("faxb" in ASCII). It is
 * one key for the whole database: instances of different schemas only wait for each other for a moment at start.
 */
export const MIGRATION_LOCK_KEY = 0x66617862;

/** The DDL differs per dialect (migrations/README.md), so each has its own numbered list. */
const MIGRATIONS: Record<Dialect, ReadonlyArray<{ version: number; sql: string }>> = {
  sqlite: SQLITE_MIGRATIONS,
  postgres: POSTGRES_MIGRATIONS,
};

/** epoch milliseconds need 64 bits: INTEGER is 64-bit in SQLite, 32-bit in PostgreSQL. */
const MIGRATIONS_TABLE: Record<Dialect, string> = {
  sqlite:
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
  postgres:
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
};

/**
 * Brings the schema up to date and returns the versions it applied. Several instances (or the CLI beside the
 * daemon) may start at once, so it all happens in one transaction that only one of them holds at a time:
 * on PostgreSQL under an advisory lock taken first thing, on SQLite under the IMMEDIATE transaction's write
 * lock. The first applies what is pending; the others, once it commits, find nothing left to do. All pending
 * migrations commit together or not at all (DDL is transactional in both), and each version is recorded in
 * schema_migrations. Versions newer than this build knows are left alone: during a rolling upgrade the old
 * instances keep running on the (additively) migrated schema.
 */
export async function migrate(db: Db, options: { schema: string | null; now: number }): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      if (options.schema !== null) await ensureSchema(tx, options.schema);
    }
    await tx.exec(MIGRATIONS_TABLE[tx.dialect]);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    const done: number[] = [];
    for (const migration of MIGRATIONS[tx.dialect]) {
      if (applied.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        migration.version,
        options.now,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}

/**
 * Creates the `?schema=` schema (PostgreSQL) when it is missing. The existence check comes first because CREATE
 * SCHEMA IF NOT EXISTS still demands CREATE on the database, which an operator's restricted user may lack for
 * a schema that a DBA already made.
 */
async function ensureSchema(tx: Queryable, schema: string): Promise<void> {
  const { rowCount } = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  // The name was checked against a plain-identifier pattern in parsePostgresUrl; quoting is belt and braces.
  if (rowCount === 0) await tx.exec(`CREATE SCHEMA "${schema}"`);
}
