import { fstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Db } from '../../src/store/db.js';
import { openSqliteDb } from '../../src/store/sqlite/sqliteDb.js';
import { makeWalSync } from '../../src/store/sqlite/walSync.js';

/*
 * The SQLite side of the database port: better-sqlite3 is synchronous, the port is async, so the adapter must
 * keep transactions whole (nothing of anyone else's runs inside one) and speak PostgreSQL's `$n` placeholders.
 */
describe('SQLite database port', () => {
  let dir = '';
  let file = '';
  const opened: Db[] = [];
  const open = () => {
    const db = openSqliteDb(file);
    opened.push(db);
    return db;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fb-sqlitedb-'));
    file = path.join(dir, 'port.db');
    await open().exec('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, flag INTEGER)');
    await opened[0]!.query('INSERT INTO counter (id, n) VALUES (1, 0)');
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const increment = (db: Db) =>
    db.transaction(async (tx) => {
      const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter WHERE id = $1', [1]);
      // A read-modify-write: lost updates appear at once if another transaction ran in between.
      await tx.query('UPDATE counter SET n = $1 WHERE id = $2', [rows[0]!.n + 1, 1]);
    });

  it('transactions on one connection and on two connections to one file never interleave', async () => {
    const [a, b] = [opened[0]!, open()];
    await Promise.all(Array.from({ length: 50 }, (_, i) => increment(i % 2 === 0 ? a : b)));
    const { rows } = await a.query<{ n: number }>('SELECT n FROM counter');
    expect(rows[0]!.n).toBe(50);
  });

  it('a statement outside the transaction waits for its COMMIT instead of joining it', async () => {
    const db = opened[0]!;
    let inside: Promise<unknown> | null = null;
    await expect(
      db.transaction(async (tx) => {
        await tx.query('UPDATE counter SET n = 99');
        inside = db.query<{ n: number }>('SELECT n FROM counter');
        await tx.query('UPDATE counter SET n = 100');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // The read ran after the ROLLBACK: it saw neither 99 nor 100.
    expect(await inside).toMatchObject({ rows: [{ n: 0 }] });
  });

  it('binds $n placeholders by number (repeats included), booleans as 0/1 and undefined as NULL', async () => {
    const db = opened[0]!;
    await db.query('UPDATE counter SET n = $2 + $2, flag = $1 WHERE id = $3', [true, 21, 1]);
    expect((await db.query('SELECT n, flag FROM counter')).rows).toEqual([{ n: 42, flag: 1 }]);
    await db.query('UPDATE counter SET flag = $1', [undefined]);
    expect((await db.query('SELECT flag FROM counter')).rows).toEqual([{ flag: null }]);
    expect((await db.query('UPDATE counter SET n = n + 1')).rowCount).toBe(1);
  });

  it('a closed database answers database_unavailable, retryable', async () => {
    const db = open();
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toMatchObject({
      code: 'database_unavailable',
      retryable: true,
    });
  });

  it('once a lock held elsewhere has outlasted the busy timeout, statements fail at once until it is gone', async () => {
    const db = open();
    // Another process's write lock (a raw connection: it does not share this process's statement queue).
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    const timed = async (work: () => Promise<unknown>) => {
      const started = Date.now();
      const error = await work().then(
        () => null,
        (caught: unknown) => caught as { code?: string },
      );
      return { ms: Date.now() - started, error };
    };
    const write = () => db.query('UPDATE counter SET n = n + 1 WHERE id = $1', [1]);
    const first = await timed(write);
    expect(first.error?.code).toBe('database_unavailable');
    const second = await timed(write);
    expect(second.error?.code).toBe('database_unavailable');
    // The first waited out the busy timeout, blocking the event loop; the second did not wait for it again.
    expect(second.ms).toBeLessThan(first.ms / 2);
    other.exec('ROLLBACK');
    other.close();
    await write();
    const { rows } = await db.query<{ n: number }>('SELECT n FROM counter WHERE id = $1', [1]);
    expect(rows[0]!.n).toBe(1);
  });

  describe('durability (fsync of the WAL file off the event loop)', () => {
    /** Counts fsyncs of any file handle (the WAL's is the only one here), in call order with the writes. */
    const countSyncs = async () => {
      const handle = await openFile(file, 'r');
      const prototype = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
      await handle.close();
      const sync = prototype.sync;
      const seen: string[] = [];
      const spy = vi.spyOn(prototype, 'sync').mockImplementation(function (this: unknown) {
        seen.push('fsync started');
        return sync.call(this).then(() => void seen.push('fsync done'));
      });
      return { seen, restore: () => spy.mockRestore() };
    };

    it('a write resolves only after an fsync that began after its COMMIT; reads and no-op writes need none', async () => {
      const db = opened[0]!;
      const syncs = await countSyncs();
      try {
        await db.query('UPDATE counter SET n = 5 WHERE id = $1', [1]);
        syncs.seen.push('autocommit resolved');
        await db.transaction(async (tx) => {
          await tx.query('UPDATE counter SET n = n + 1 WHERE id = $1', [1]);
        });
        syncs.seen.push('transaction resolved');
        await db.transaction(async (tx) => tx.query('SELECT n FROM counter'));
        await db.query('SELECT n FROM counter');
        await db.query('UPDATE counter SET n = 0 WHERE id = $1', [404]);
        syncs.seen.push('reads resolved');
        await db.query('CREATE INDEX counter_n ON counter (n)');
        syncs.seen.push('schema change resolved');
        expect(syncs.seen).toEqual([
          'fsync started',
          'fsync done',
          'autocommit resolved',
          'fsync started',
          'fsync done',
          'transaction resolved',
          'reads resolved',
          'fsync started',
          'fsync done',
          'schema change resolved',
        ]);
      } finally {
        syncs.restore();
      }
    });

    it('writes waiting at once share fsyncs instead of taking one each', async () => {
      const db = opened[0]!;
      const syncs = await countSyncs();
      try {
        await Promise.all(Array.from({ length: 40 }, () => increment(db)));
      } finally {
        syncs.restore();
      }
      const fsyncs = syncs.seen.filter((step) => step === 'fsync started').length;
      expect(fsyncs).toBeGreaterThanOrEqual(1);
      expect(fsyncs).toBeLessThan(40);
      expect((await db.query<{ n: number }>('SELECT n FROM counter')).rows[0]!.n).toBe(40);
    });

    it('a read that may have seen a commit still being synced answers only once it is on disk', async () => {
      const db = opened[0]!;
      const handle = await openFile(file, 'r');
      const prototype = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
      await handle.close();
      const sync = prototype.sync;
      const seen: string[] = [];
      let letSyncRun!: () => void;
      const held = new Promise<void>((resolve) => (letSyncRun = resolve));
      const spy = vi.spyOn(prototype, 'sync').mockImplementation(function (this: unknown) {
        seen.push('fsync started');
        return held.then(() => sync.call(this)).then(() => void seen.push('fsync done'));
      });
      try {
        const write = db.query('UPDATE counter SET n = 7 WHERE id = $1', [1]);
        const read = db
          .query<{ n: number }>('SELECT n FROM counter WHERE id = $1', [1])
          .then(({ rows }) => void seen.push(`read saw ${rows[0]!.n}`));
        while (!seen.includes('fsync started')) await new Promise((resolve) => setImmediate(resolve));
        // The read has run (it is after the write on the mutex) but must not answer while the fsync is held.
        for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
        expect(seen).toEqual(['fsync started']);
        letSyncRun();
        await Promise.all([write, read]);
        expect(seen).toEqual(['fsync started', 'fsync done', 'read saw 7']);
      } finally {
        letSyncRun();
        spy.mockRestore();
      }
    });

    it('a write that close() overtakes still resolves once durable', async () => {
      // The only connection: its close checkpoints and deletes the WAL file.
      await opened[0]!.close();
      const db = open();
      const written = db.query('UPDATE counter SET n = 7 WHERE id = $1', [1]);
      await db.close();
      await expect(written).resolves.toMatchObject({ rowCount: 1 });
      const reader = new Database(file);
      expect(reader.prepare('SELECT n FROM counter').get()).toEqual({ n: 7 });
      reader.close();
    });

    it('a database without a WAL file (in memory) commits with its own durability, no fsync asked', async () => {
      const syncs = await countSyncs();
      const memory = openSqliteDb(':memory:');
      try {
        await memory.exec('CREATE TABLE t (n INTEGER)');
        await memory.transaction(async (tx) => tx.query('INSERT INTO t (n) VALUES ($1)', [1]));
        expect((await memory.query('SELECT n FROM t')).rows).toEqual([{ n: 1 }]);
        expect(syncs.seen).toEqual([]);
      } finally {
        syncs.restore();
        await memory.close();
      }
    });

    it('a WAL file that cannot be synced makes the write fail as database_unavailable', async () => {
      const wal = makeWalSync(path.join(dir, 'missing.db-wal'));
      await expect(wal.sync()).rejects.toMatchObject({ code: 'database_unavailable', retryable: true });
      // Final: the file appearing later does not make what was written meanwhile durable.
      writeFileSync(path.join(dir, 'missing.db-wal'), '');
      await expect(wal.sync()).rejects.toMatchObject({ code: 'database_unavailable' });
      await wal.close();
    });

    it('a database file that is a symlink syncs the WAL SQLite writes, beside the real file', async () => {
      const real = path.join(dir, 'real');
      const link = path.join(dir, 'link');
      mkdirSync(real);
      mkdirSync(link);
      // The database moved to another disk and linked from where the config says it is.
      writeFileSync(path.join(real, 'linked.db'), '');
      symlinkSync(path.join(real, 'linked.db'), path.join(link, 'linked.db'));
      const db = openSqliteDb(path.join(link, 'linked.db'));
      const handle = await openFile(file, 'r');
      const prototype = Object.getPrototypeOf(handle) as { sync(): Promise<void>; fd: number };
      await handle.close();
      const sync = prototype.sync;
      const synced: number[] = [];
      const spy = vi.spyOn(prototype, 'sync').mockImplementation(function (this: { fd: number }) {
        synced.push(fstatSync(this.fd).ino);
        return sync.call(this);
      });
      let realWal: number;
      try {
        await db.exec('CREATE TABLE t (n INTEGER)');
        await db.query('INSERT INTO t (n) VALUES (1)');
        realWal = statSync(path.join(real, 'linked.db-wal')).ino;
      } finally {
        spy.mockRestore();
        await db.close();
      }
      expect(synced.length).toBeGreaterThan(0);
      expect(synced.every((inode) => inode === realWal)).toBe(true);
    });
  });
});
