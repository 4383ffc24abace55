import pg from 'pg';

import type { Db, Queryable, QueryResult } from '../db.js';
import { parsePostgresUrl } from './connectionConfig.js';
import { asPostgresStoreError } from './storeError.js';

export interface PostgresDbOptions {
  /**
   * Told about errors on idle pooled connections (the server restarted, a proxy cut the socket). pg emits
   * them on the pool, and an unhandled 'error' event would kill the process; the next query reconnects.
   */
  onPoolError?: (error: Error) => void;
}

/**
 * The shared database behind the port: one pg Pool per instance (`database.url`, see connectionConfig.ts for
 * `?schema=` and `?pool_max=`). A statement outside a transaction runs on any pooled connection (autocommit);
 * a transaction holds one connection from BEGIN to COMMIT. int8 comes back as a JS number (connectionConfig.ts).
 */
export function openPostgresDb(
  url: string,
  options: PostgresDbOptions = {},
): { db: Db; schema: string | null } {
  const { pool: poolConfig, schema } = parsePostgresUrl(url);
  const pool = new pg.Pool(poolConfig);
  pool.on('error', (error) => options.onPoolError?.(error));
  let closed = false;

  const db: Db = {
    dialect: 'postgres',
    query: (sql, params) => query(pool, sql, params),
    exec: (sql) => exec(pool, sql),
    transaction: (work) => withTransaction(pool, work),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return { db, schema };
}

async function query<T>(
  on: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] = [],
): Promise<QueryResult<T>> {
  try {
    const result = await on.query(sql, params as unknown[]);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  } catch (error) {
    throw asPostgresStoreError(error);
  }
}

async function exec(on: pg.Pool | pg.PoolClient, sql: string): Promise<void> {
  try {
    // Without parameters pg uses the simple query protocol, which accepts several statements at once.
    await on.query(sql);
  } catch (error) {
    throw asPostgresStoreError(error);
  }
}

/**
 * Runs `work` in one transaction on one pooled connection: COMMIT when it returns, ROLLBACK when it throws.
 * A connection whose ROLLBACK failed is destroyed rather than returned to the pool, so that a broken socket
 * or an aborted transaction never reaches the next caller.
 */
async function withTransaction<T>(pool: pg.Pool, work: (tx: Queryable) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw asPostgresStoreError(error);
  }
  const tx: Queryable = {
    dialect: 'postgres',
    query: (sql, params) => query(client, sql, params),
    exec: (sql) => exec(client, sql),
  };
  let broken: Error | undefined;
  try {
    await query(client, 'BEGIN');
    const result = await work(tx);
    await query(client, 'COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
