/**
 * One fsync for everyone who asks at about the same time. `sync()` resolves once everything written before
 * the call is on disk: a caller who arrives while an fsync runs may have written after it began, so it waits for
 * the NEXT one, which then serves every caller who arrived meanwhile. Under load, one fsync serves many writers
 * (as a group commit does for a database's commits) instead of queueing one each on libuv's thread pool.
 */
export interface SharedFsync {
  sync(): Promise<void>;
  /** Resolves once no fsync is running or waiting to run. */
  idle(): Promise<void>;
}

export function makeSharedFsync(fsyncOnce: () => Promise<void>): SharedFsync {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;

  const start = (): Promise<void> => {
    const current = fsyncOnce().finally(() => {
      if (running === current) running = null;
    });
    running = current;
    return current;
  };

  return {
    sync() {
      if (!running) return start();
      next ??= running
        .catch(() => undefined)
        .then(() => {
          next = null;
          return start();
        });
      return next;
    },
    async idle() {
      await Promise.allSettled([running, next]);
    },
  };
}
