/**
 * The document sandbox's slots, in two lanes that never lend to each other. `first` is for a sender waiting at the
 * end of DATA (and anything else someone waits on); `later` is for background work nobody waits on (a queued
 * fax's transmitted PDF, a receipt's preview). Intake never queues behind background work, however much of it
 * there is: background work only ever takes the `later` lane's own slots, and runs niced (documentSandbox.ts).
 * Within a lane, tasks are served in the order they asked.
 */
export type SlotPriority = 'first' | 'later';

export type AcquireSlot = (priority?: SlotPriority) => Promise<() => void>;

export type LaneSizes = Record<SlotPriority, number>;

export function makePrioritySlots(sizes: LaneSizes): AcquireSlot {
  const lanes = { first: makeLane(sizes.first), later: makeLane(sizes.later) };
  return (priority = 'first') => lanes[priority]();
}

/** A counting semaphore, first come first served. */
function makeLane(size: number): () => Promise<() => void> {
  let free = Math.max(1, size);
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  return () => {
    if (free > 0) {
      free -= 1;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve) => waiting.push(() => resolve(once(release))));
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
