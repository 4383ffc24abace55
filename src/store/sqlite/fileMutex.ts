import path from 'node:path';

/** One holder at a time, first come first served; handed from holder to waiter without a gap. */
export interface Mutex {
  /** Runs `work` once every earlier holder is done; nobody else holds the mutex until it settles. */
  withLock<T>(work: () => Promise<T>): Promise<T>;
  /** Runs synchronous `work` at once when the mutex is free (no extra tick), else queues it like withLock. */
  whenFree<T>(work: () => T): Promise<T>;
}

export function makeMutex(): Mutex {
  let held = false;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held = false;
  };
  const withLock = async <T>(work: () => Promise<T>): Promise<T> => {
    if (held) await new Promise<void>((resolve) => waiting.push(resolve));
    else held = true;
    try {
      return await work();
    } finally {
      release();
    }
  };
  return {
    withLock,
    whenFree<T>(work: () => T): Promise<T> {
      if (held) return withLock(async () => work());
      try {
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}

/*
 * One mutex per database FILE in this process, shared by every connection to it. better-sqlite3 is
 * synchronous, so a transaction that awaits between its statements (as the async port does) leaves the thread
 * free for other code; if that code opened a second connection's write on the same file, SQLite's busy handler
 * would block the thread (busy_timeout) while the first transaction, which holds the lock, could never resume.
 * Serialising every statement per file in this process avoids that; other processes wait on SQLite's own lock.
 * This is the one piece of module state in the store, because the thing it guards, the file, is process-wide.
 */
const byFile = new Map<string, { mutex: Mutex; users: number }>();

/** The mutex of `file` (a fresh one for `:memory:`, which is private to its connection); call `done` on close. */
export function fileMutex(file: string): { mutex: Mutex; done: () => void } {
  if (file === ':memory:' || file === '') return { mutex: makeMutex(), done: () => undefined };
  const key = path.resolve(file);
  const entry = byFile.get(key) ?? { mutex: makeMutex(), users: 0 };
  entry.users += 1;
  byFile.set(key, entry);
  let released = false;
  return {
    mutex: entry.mutex,
    done() {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users === 0) byFile.delete(key);
    },
  };
}
