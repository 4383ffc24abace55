import pg from 'pg';

import { FaxError } from '../../errors.js';

/** PostgreSQL's OID for int8/bigint (`SELECT 'int8'::regtype::oid`). */
const INT8_OID = 20;
/** Fail a connection attempt quickly so that intake answers 451 instead of hanging the SMTP session. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Idle connections are closed after this, so a quiet instance does not hold slots on a shared server. */
const IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_POOL_SIZE = 10;
/** Plain lower-case identifiers only: the name is interpolated (quoted) into CREATE SCHEMA and search_path. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresConnection {
  pool: pg.PoolConfig;
  /** The schema named by `?schema=`, or null for the server's default search_path (usually `public`). */
  schema: string | null;
}

/**
 * Reads `database.url`. Besides what pg itself understands (`postgres://user:pass@host:5432/db?sslmode=…`,
 * `application_name`, `options`), faxbridge reads two query parameters of its own and removes them:
 *
 * - `schema=NAME`: the tables live in schema NAME (created at start if missing and the user may). It is put
 *   first in the connection's search_path through the startup `options` (`-c search_path=NAME`), so one
 *   database can hold several faxbridge installations, or a fresh schema per test file. A pooler in
 *   transaction mode (PgBouncer) must pass `options` through, or leave `schema` out and use the user's
 *   default search_path instead.
 * - `pool_max=N`: connections per instance (default 10). Every instance has its own pool, so the server needs
 *   instances × N connections.
 */
export function parsePostgresUrl(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FaxError('config', 'database.url is not a valid postgres:// URL');
  }
  const schema = parsed.searchParams.get('schema');
  const poolMax = parsed.searchParams.get('pool_max');
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('pool_max');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new FaxError('config', `database.url: schema "${schema}" must match ${SCHEMA_NAME.source}`);
  }
  const max = poolMax === null ? DEFAULT_POOL_SIZE : Number(poolMax);
  if (!Number.isInteger(max) || max < 1) {
    throw new FaxError('config', `database.url: pool_max must be a positive integer, got "${poolMax}"`);
  }
  if (schema !== null) {
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  }
  return {
    schema,
    pool: {
      connectionString: parsed.toString(),
      application_name: 'faxbridge',
      max,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      types: { getTypeParser: int8AsNumber },
    },
  };
}

/**
 * pg returns int8 (BIGINT columns, count(*)) as strings by default (docs/dependencies.md, pg). Our int8
 * values are epoch milliseconds and counts, far below 2^53, so this pool parses them as numbers; the override
 * is per pool, leaving pg's global parsers alone for any other library in the process.
 */
function int8AsNumber(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID && (format ?? 'text') === 'text') return Number;
  // The overloads of getTypeParser don't accept a union format; the text parser is what pg uses here.
  return pg.types.getTypeParser(oid, format === 'binary' ? 'binary' : 'text') as (value: string) => unknown;
}

/** The URL without its password, for error messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
