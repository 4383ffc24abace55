/**
 * Resolves with the slot's release once one is free. With a `signal` that aborts first, the request is
 * withdrawn and the promise rejects with the signal's reason. Waiters are served by rank (lower first), then
 * first come first served.
 */
export type AcquireRankedSlot = (rank: number, signal?: AbortSignal) => Promise<() => void>;

interface Waiter {
  rank: number;
  grant: () => void;
}

/** A counting semaphore of `size` slots (at least one). Releasing a slot twice frees it once. */
export function makeRankedSlots(size: number): AcquireRankedSlot {
  let free = Math.max(1, size);
  const waiting: Waiter[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next.grant();
    else free += 1;
  };
  return (rank, signal) => {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (free > 0) {
      free -= 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const withdraw = (): void => {
        const at = waiting.indexOf(waiter);
        if (at >= 0) waiting.splice(at, 1);
        reject(signal?.reason as Error);
      };
      const waiter: Waiter = {
        rank,
        grant: () => {
          signal?.removeEventListener('abort', withdraw);
          resolve(once(release));
        },
      };
      const behind = waiting.findIndex((other) => other.rank > rank);
      waiting.splice(behind < 0 ? waiting.length : behind, 0, waiter);
      signal?.addEventListener('abort', withdraw, { once: true });
    });
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
