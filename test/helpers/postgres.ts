import { randomBytes } from 'node:crypto';

import pg from 'pg';

/**
 * PostgreSQL for tests: 127.0.0.1:5432, trust auth, user postgres, database `test`, or
 * FB_TEST_POSTGRES_URL. Every test file works in its own schema, so files run in parallel and leave nothing
 * behind; the store reaches it through `?schema=` in its URL (src/store/postgres/connectionConfig.ts).
 */
export const TEST_POSTGRES_URL =
  process.env.FB_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PROBE_TIMEOUT_MS = 3_000;

/**
 * True when the test server answers. Locally an unreachable server makes PostgreSQL tests skip (false); with
 * CI=true it throws instead, so a CI run without PostgreSQL fails rather than passing on SQLite alone.
 */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: TEST_POSTGRES_URL,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(
        `PostgreSQL at ${TEST_POSTGRES_URL} is required when CI=true: the store suite runs on both dialects`,
        {
          cause: error,
        },
      );
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PostgresSchema {
  /** Store URL selecting the schema: `…/test?schema=fb_<random>`. */
  url: string;
  schema: string;
  /** Empties every table but schema_migrations, for a clean slate between tests. */
  reset(): Promise<void>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** Creates a fresh, empty schema `fb_<random>`; the store's migrations fill it on open. */
export async function withPostgres(): Promise<PostgresSchema> {
  const schema = `fb_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    schema,
    async reset() {
      const tables = await adminQuery<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`,
        [schema],
      );
      if (tables.length === 0) return;
      await adminQuery(`TRUNCATE ${tables.map((t) => `${schema}."${t.tablename}"`).join(', ')} CASCADE`);
    },
    async drop() {
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** One statement on a short-lived connection (tests only; the store has its own pool). */
export async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
