import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/store/db.js';
import { withGroupCommit } from '../../src/store/groupCommit.js';
import { openSqliteDb } from '../../src/store/sqlite/sqliteDb.js';

/*
 * Group commit over a real SQLite file: many transactions asked for together share one COMMIT, yet each stays
 * atomic on its own, each caller hears of its own failure only, and a database that cannot commit fails every
 * caller of the group without retrying in a loop.
 */
describe('withGroupCommit', () => {
  let dir = '';
  let file = '';
  let db: Db;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fb-groupcommit-'));
    file = path.join(dir, 'group.db');
    db = openSqliteDb(file);
    await db.exec('CREATE TABLE item (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What another process reading the file sees: only committed rows. */
  const committedIds = (): string[] => {
    const reader = new Database(file, { readonly: true });
    try {
      return (reader.prepare('SELECT id FROM item ORDER BY id').all() as Array<{ id: string }>).map(
        (r) => r.id,
      );
    } finally {
      reader.close();
    }
  };

  it('commits many transactions in few groups; a failing one is undone alone and only its caller hears it', async () => {
    let transactions = 0;
    const counting: Db = {
      ...db,
      transaction: (work) => {
        transactions += 1;
        return db.transaction(work);
      },
    };
    const viaCount = withGroupCommit(counting, { maxGroup: 16 });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        viaCount.transaction(async (tx) => {
          await tx.query('INSERT INTO item (id, n) VALUES ($1, $2)', [`a${String(i).padStart(2, '0')}`, i]);
          // Half-done work that then fails must leave nothing behind.
          if (i % 10 === 7) throw new Error(`work ${i} refused`);
          return i;
        }),
      ),
    );
    const refused = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(refused).toEqual([7, 17, 27, 37]);
    expect((results[3] as PromiseFulfilledResult<number>).value).toBe(3);
    expect(committedIds()).toHaveLength(36);
    expect(committedIds()).not.toContain('a07');
    // 40 transactions asked for in one turn of the event loop: 3 groups of at most 16, not 40 commits.
    expect(transactions).toBe(3);
  });

  it('a later work sees what an earlier one of its group wrote (first wins, as with separate transactions)', async () => {
    const grouped = withGroupCommit(db);
    const claim = () =>
      grouped.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          'INSERT INTO item (id, n) VALUES ($1, 1) ON CONFLICT (id) DO NOTHING',
          ['once'],
        );
        return rowCount === 1 ? 'recorded' : 'duplicate';
      });
    expect(await Promise.all([claim(), claim(), claim()])).toEqual(['recorded', 'duplicate', 'duplicate']);
  });

  it('when the database cannot commit, every caller of the group gets the error, once', async () => {
    const grouped = withGroupCommit(db);
    await db.close();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => grouped.transaction(async (tx) => tx.query('SELECT 1'))),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    db = openSqliteDb(file);
  });
});
