import { setMaxListeners } from 'node:events';

import { sleep } from '../lib/sleep.js';

/**
 * Keeps count of the simulator's background work (fax lifecycles, media fetches, webhook deliveries) so that
 * tests can await `waitForIdle()` instead of sleeping, and so that `close()` can stop everything at once.
 */
export interface ActivityTracker {
  /** Counts `work` as in flight until it settles; rejections are swallowed here (the worker logs them). */
  track(work: Promise<unknown>): void;
  /** A sleep that ends early when the simulator closes; callers check `signal.aborted` afterwards. */
  sleep(ms: number): Promise<void>;
  /** Aborted by `stop()`: every fetch, delivery and sleep listens to it. */
  readonly signal: AbortSignal;
  /** Resolves once nothing is in flight, including work started by work that just finished. */
  idle(): Promise<void>;
  stop(): void;
}

export function makeActivityTracker(): ActivityTracker {
  const inFlight = new Set<Promise<unknown>>();
  const controller = new AbortController();
  // Every fax lifecycle, fetch and delivery in flight listens here: 100 concurrent faxes are normal, not a leak.
  setMaxListeners(0, controller.signal);

  function track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
  }

  async function idle(): Promise<void> {
    // Work can schedule more work as it finishes (a lifecycle queues a delivery), so loop until a pass
    // finds nothing new, yielding a macrotask each time to let `then` callbacks register their work.
    for (;;) {
      if (inFlight.size === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (inFlight.size === 0) return;
      }
      await Promise.all([...inFlight]);
    }
  }

  return {
    track,
    sleep: (ms) => sleep(ms, controller.signal),
    signal: controller.signal,
    idle,
    stop: () => controller.abort(),
  };
}
