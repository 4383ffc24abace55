import type { Pool, PoolClient } from 'pg';

import { POSTGRES_MIGRATIONS } from '../migrations/postgres.js';
import { withTransaction } from './transaction.js';

/**
 * Key of the transaction-scoped advisory lock that serialises migrations ("faxb" in ASCII). It is one key for
 * the whole database: instances of different schemas only wait for each other for a moment at start.
 */
export const MIGRATION_LOCK_KEY = 0x66617862;

/**
 * Brings the schema up to date. Several instances may start at once: each takes the advisory lock inside its
 * transaction, so the first applies the pending migrations and the others, once it commits, find nothing left
 * to do. All pending migrations commit together or not at all (PostgreSQL DDL is transactional), and each
 * version is recorded in schema_migrations. Versions newer than this build knows are left alone: during a
 * rolling upgrade the old instances keep running on the (additively) migrated schema.
 */
export async function migratePostgres(pool: Pool, schema: string | null, now: number): Promise<number[]> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    if (schema !== null) await ensureSchema(client, schema);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const done: number[] = [];
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
        migration.version,
        now,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}

/**
 * Creates the `?schema=` schema when it is missing. The existence check comes first because CREATE SCHEMA IF NOT
 * EXISTS still demands CREATE on the database, which an operator's restricted user may lack for a schema that
 * a DBA already made.
 */
async function ensureSchema(client: PoolClient, schema: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  // The name was checked against a plain-identifier pattern in parsePostgresUrl; quoting is belt and braces.
  if (rowCount === 0) await client.query(`CREATE SCHEMA "${schema}"`);
}
