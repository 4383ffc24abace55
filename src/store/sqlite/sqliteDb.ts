import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { preparePrivateDatabaseFile, PRIVATE_DIR_MODE } from '../../lib/privateFiles.js';
import type { Db, Queryable, QueryResult } from '../db.js';
import { fileMutex } from './fileMutex.js';
import { asSqliteStoreError } from './sqliteError.js';
import { makeWalSync, type WalSync } from './walSync.js';

/** Prepared statements kept per connection; dynamic SQL (transition column sets, IN lists) stays well below. */
const STATEMENT_CACHE_SIZE = 500;
/** How long a writer waits for another process's write lock before the call fails as unavailable. */
const BUSY_TIMEOUT_MS = 5_000;

interface Prepared {
  statement: Database.Statement;
  /** For each `?` in the rewritten SQL, the index of the parameter it takes (`$2` → 1). */
  order: number[];
  schemaChange: boolean;
}

/**
 * The embedded database behind the port: one file in WAL mode. A write resolves only once it is on disk, so
 * that a 250 means durable: the COMMIT itself does not fsync (`synchronous=NORMAL`, already safe against kill -9),
 * and the WAL file is then fsynced off the event loop, one fsync for every commit waiting (walSync.ts). With
 * `synchronous=FULL` each COMMIT blocked the event loop for its fsync, a fifth of the daemon's main thread at
 * ingest (docs/dependencies.md, better-sqlite3). better-sqlite3 is synchronous; the port is async only to share
 * the operations with PostgreSQL. Every statement and transaction of this process on the file goes through one
 * mutex (fileMutex.ts), so transactions never interleave; other processes (the CLI beside the daemon) wait on
 * SQLite's own lock for up to BUSY_TIMEOUT_MS.
 */
export function openSqliteDb(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
    // Created owner-only before SQLite opens it: its -wal and -shm files take the main file's mode.
    preparePrivateDatabaseFile(file);
  }
  const db = new Database(file);
  const journal = db.pragma('journal_mode = WAL', { simple: true });
  // In WAL mode, durable by walSync below before any write resolves: NORMAL only keeps the fsync out of the
  // COMMIT. A file system where SQLite cannot use WAL (no shared memory), or a database in memory, keeps FULL.
  // SQLite keeps the WAL beside the database's real file (a symlinked path is resolved): sync that one.
  const mainFile = (db.pragma('database_list') as Array<{ name: string; file: string }>).find(
    (entry) => entry.name === 'main',
  )?.file;
  const wal: WalSync | null = journal === 'wal' && mainFile ? makeWalSync(`${mainFile}-wal`) : null;
  db.pragma(`synchronous = ${wal ? 'NORMAL' : 'FULL'}`);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('foreign_keys = ON');
  const { mutex, done } = fileMutex(file);
  const cache = new Map<string, Prepared>();
  /** Statements that changed something, so far: a transaction or statement that changed nothing needs no fsync. */
  let writes = 0;
  /** How many of `writes` are known to be on disk, and the fsync that will make the latest ones so. */
  let durableWrites = 0;
  let pendingSync: Promise<void> | null = null;

  /** Prepared once per SQL string: `$n` placeholders become `?`, in the order they appear. */
  function prepare(sql: string): Prepared {
    let prepared = cache.get(sql);
    if (!prepared) {
      const order: number[] = [];
      // Our SQL has no `$` inside string literals, so every `$n` is a placeholder.
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      prepared = {
        statement: db.prepare(text),
        order,
        schemaChange: /^\s*(CREATE|DROP|ALTER)\b/i.test(text),
      };
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sql, prepared);
    }
    return prepared;
  }

  /*
   * better-sqlite3 waits for another process's lock by blocking the event loop, up to BUSY_TIMEOUT_MS per
   * statement. Once one statement has waited that long in vain, the lock is not a brief one (a backup, a
   * stuck CLI): until a statement gets through again, statements fail at once instead of each blocking the
   * loop for seconds, so SMTP answers 451 promptly and health checks keep answering.
   */
  let lockedUntil = 0;

  function run<T>(sql: string, params: readonly unknown[]): QueryResult<T> {
    const failFast = Date.now() < lockedUntil;
    if (failFast) db.pragma('busy_timeout = 0');
    try {
      const prepared = prepare(sql);
      const { statement, order } = prepared;
      const values = order.map((index) => bindable(params[index]));
      let result: QueryResult<T>;
      if (statement.reader) {
        const rows = statement.all(values) as T[];
        result = { rows, rowCount: rows.length };
        // UPDATE … RETURNING reads and writes.
        if (!statement.readonly && rows.length > 0) writes += 1;
      } else {
        result = { rows: [], rowCount: statement.run(values).changes };
        // A schema change reports no changed rows, but writes all the same.
        if (!statement.readonly && (result.rowCount > 0 || prepared.schemaChange)) writes += 1;
      }
      lockedUntil = 0;
      return result;
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_BUSY') lockedUntil = Date.now() + BUSY_TIMEOUT_MS;
      throw asSqliteStoreError(error);
    } finally {
      if (failFast && db.open) db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  function script(sql: string): void {
    try {
      writes += 1;
      db.exec(sql);
    } catch (error) {
      throw asSqliteStoreError(error);
    }
  }

  /**
   * The fsync for what was just committed, asked for while the mutex is still held (so that close() waits for
   * it) and awaited once it is given back (so that the next transaction commits meanwhile).
   */
  function syncIfWritten(before: number): Promise<void> | undefined {
    if (!wal || writes === before) return undefined;
    const upTo = writes;
    const synced = wal.sync().then(() => {
      durableWrites = Math.max(durableWrites, upTo);
    });
    pendingSync = synced;
    // Heard by the caller's await just after; this only keeps a quick failure from counting as unhandled.
    synced.catch(() => {
      if (pendingSync === synced) pendingSync = null;
    });
    return synced;
  }

  /**
   * What a read saw may include commits whose fsync is still running (another caller's 250 not yet sent): a
   * decision taken on it (a resent mail answered with jobs that a power cut would lose) must not be answered
   * before they are on disk. Nothing to wait for when every commit so far is.
   */
  function durableBeforeAnswering(): Promise<void> | undefined {
    if (!wal || durableWrites >= writes) return undefined;
    return pendingSync ?? syncIfWritten(durableWrites);
  }

  /** Outside a transaction: the statement's own autocommit is made durable before it resolves. */
  async function autocommit<T>(work: () => T): Promise<T> {
    let synced: Promise<void> | undefined;
    const result = await mutex.whenFree(() => {
      const before = writes;
      try {
        return work();
      } finally {
        synced = syncIfWritten(before) ?? durableBeforeAnswering();
      }
    });
    await synced;
    return result;
  }

  async function transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let synced: Promise<void> | undefined;
    const result = await mutex.withLock(async () => {
      let open = true;
      const inside = <R>(fn: () => R): Promise<R> => {
        if (!open) return Promise.reject(new Error('store bug: statement after its transaction ended'));
        try {
          return Promise.resolve(fn());
        } catch (error) {
          return Promise.reject(error);
        }
      };
      const tx: Queryable = {
        dialect: 'sqlite',
        query: <R>(sql: string, params: readonly unknown[] = []) => inside(() => run<R>(sql, params)),
        exec: (sql: string) => inside(() => script(sql)),
      };
      run('BEGIN IMMEDIATE', []);
      const before = writes;
      try {
        const result = await work(tx);
        run('COMMIT', []);
        synced = syncIfWritten(before) ?? durableBeforeAnswering();
        return result;
      } catch (error) {
        if (db.open && db.inTransaction) run('ROLLBACK', []);
        // Rolled back: nothing of it reached the file, so there is nothing of it to sync.
        writes = before;
        throw error;
      } finally {
        open = false;
      }
    });
    await synced;
    return result;
  }

  return {
    dialect: 'sqlite',
    query: <T>(sql: string, params: readonly unknown[] = []) => autocommit(() => run<T>(sql, params)),
    exec: (sql: string) => autocommit(() => script(sql)),
    transaction,
    close: () =>
      mutex.withLock(async () => {
        await wal?.close();
        if (db.open) db.close();
        done();
      }),
  };
}

/** SQLite has no boolean type (true is stored as 1), and pg binds undefined as NULL: do the same here. */
function bindable(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value === undefined ? null : value;
}
