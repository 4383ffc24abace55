/*
 * The database port: the little every store operation (src/store/sql/*) needs from a database, so that each
 * operation is written once and runs on SQLite (sqlite/sqliteDb.ts) and PostgreSQL (postgres/postgresDb.ts).
 *
 * SQL is written in PostgreSQL's placeholder style, `$1`, `$2`, … (a number may repeat); the SQLite adapter
 * rewrites it once per statement. Only values are bound. The few places where the two dialects must say
 * different things are named in sql/dialect.ts, or written as two statements side by side (the claims).
 */

export type Dialect = 'sqlite' | 'postgres';

export interface QueryResult<T> {
  rows: T[];
  /** Rows the statement inserted, updated or deleted (or returned, for a SELECT). */
  rowCount: number;
}

/** Runs statements: the database itself (each statement on its own) or an open transaction. */
export interface Queryable {
  readonly dialect: Dialect;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /**
   * Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. Inside, use only the
   * `tx` it is given (on SQLite the database is held for the transaction, so `db.query` there would wait for
   * ever), and await nothing but `tx`: a transaction is a few statements, never a network call.
   *
   * SQLite: BEGIN IMMEDIATE, so the write lock is taken before the first read and the reads a decision is
   * based on cannot go stale. PostgreSQL: BEGIN (read committed); operations lock the rows they decide on
   * with `FOR UPDATE` (sql/dialect.ts).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Waits for the statement or transaction in progress, then closes; later calls fail as unavailable. */
  close(): Promise<void>;
}
