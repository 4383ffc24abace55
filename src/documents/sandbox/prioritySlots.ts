/**
 * A counting semaphore with two waiting lines. `acquire('first')` is served before any `acquire('later')` that
 * waits: a message whose sender is waiting at the end of DATA goes ahead of background work (the transmitted PDF
 * of a queued fax), which nobody is waiting on and which only delays the fax by as long.
 */
export type SlotPriority = 'first' | 'later';

export type AcquireSlot = (priority?: SlotPriority) => Promise<() => void>;

export function makePrioritySlots(size: number): AcquireSlot {
  let free = size;
  const waiting: Record<SlotPriority, Array<() => void>> = { first: [], later: [] };
  const release = (): void => {
    const next = waiting.first.shift() ?? waiting.later.shift();
    if (next) next();
    else free += 1;
  };
  return (priority = 'first') => {
    if (free > 0) {
      free -= 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve) => waiting[priority].push(() => resolve(once(release))));
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
