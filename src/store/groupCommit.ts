import type { Db, Queryable } from './db.js';

/*
 * Group commit: transactions asked for at about the same time run together in ONE database transaction, each
 * inside its own SAVEPOINT, and one COMMIT (one fsync) makes all of them durable. On SQLite, where every
 * BEGIN and COMMIT is synchronous work on the event loop (the fsync after it is not: sqlite/walSync.ts), this is
 * what lets a burst of webhooks be recorded at thousands per second.
 *
 * What each caller sees is unchanged:
 * - its work is atomic on its own: a work that throws is rolled back to its savepoint and its caller gets the
 *   error, while the others of the group still commit;
 * - its promise settles only after the COMMIT of its group: a resolved transaction is durable (a webhook's 200
 *   still means "recorded");
 * - when the COMMIT (or the database) fails, every caller of the group gets the error, and nothing of the
 *   group was committed.
 * Works run one after the other in the order they were asked for, so each sees what the earlier ones wrote.
 */

export interface GroupCommitOptions {
  /** Works per transaction at most; bounds how long one group holds the event loop (SQLite is synchronous). */
  maxGroup?: number;
}

interface Pending {
  work: (tx: Queryable) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** 64 small transactions (an insert, or a webhook event's few statements) take a few ms on SQLite. */
const DEFAULT_MAX_GROUP = 64;
const SAVEPOINT = 'group_commit_item';

/**
 * `db` with `transaction` grouped as above; `query`, `exec` and `close` are `db`'s own. A group is formed of
 * everything asked for until the database is free: the works of one turn of the event loop (setImmediate),
 * and those that arrive while the previous group is committing.
 */
export function withGroupCommit(db: Db, options: GroupCommitOptions = {}): Db {
  const maxGroup = options.maxGroup ?? DEFAULT_MAX_GROUP;
  const queue: Pending[] = [];
  let scheduled = false;

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  async function flush(): Promise<void> {
    let group: Pending[] = [];
    let settled: Settled[] = [];
    try {
      await db.transaction(async (tx) => {
        // Taken once the database is ours: whatever arrived while we waited for it joins this group.
        group = queue.splice(0, maxGroup);
        scheduled = false;
        settled = group.length === 1 ? [await runAlone(tx, group[0]!)] : await runEach(tx, group);
      });
    } catch (error) {
      scheduled = false;
      // BEGIN failed (the database is down): the group was never taken, and must not be retried in a loop.
      if (group.length === 0) group = queue.splice(0, maxGroup);
      // Nothing of the group was committed: every caller hears it.
      for (const pending of group) pending.reject(error);
      schedule();
      return;
    }
    group.forEach((pending, index) => {
      const outcome = settled[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
    schedule();
  }

  return {
    dialect: db.dialect,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
  };
}

/** A group of one needs no savepoint: its failure rolls the whole transaction back, which is only its own. */
async function runAlone(tx: Queryable, pending: Pending): Promise<Settled> {
  return { ok: true, value: await pending.work(tx) };
}

async function runEach(tx: Queryable, group: Pending[]): Promise<Settled[]> {
  const settled: Settled[] = [];
  for (const pending of group) {
    await tx.query(`SAVEPOINT ${SAVEPOINT}`);
    try {
      const value = await pending.work(tx);
      await tx.query(`RELEASE ${SAVEPOINT}`);
      settled.push({ ok: true, value });
    } catch (error) {
      // Undoes this work only. Should the rollback itself fail, the whole transaction fails (and all hear it).
      await tx.query(`ROLLBACK TO ${SAVEPOINT}`);
      await tx.query(`RELEASE ${SAVEPOINT}`);
      settled.push({ ok: false, error });
    }
  }
  return settled;
}
