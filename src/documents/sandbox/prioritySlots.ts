import { makeRankedSlots } from '../../lib/rankedSlots.js';

/**
 * The document sandbox's slots, in two lanes that never lend to each other. The intake lane is for `first`
 * work: a sender waiting at the end of DATA (and anything else someone waits on at once). The background lane
 * is for the rest, whose children run niced (documentSandbox.ts), in two ranks: `soon`, background work a mail
 * is held for (a receipt's or received fax's preview, composed inside the outbox's lease: src/mail/
 * outboxWorker.ts), goes ahead of `later`, work nobody waits on (a queued fax's transmitted PDF), so a preview
 * never queues behind a burst of builds. Previews come one at a time from each outbox loop, so they cannot
 * starve the builds. Intake never queues behind background work, however much of it there is. Within a rank,
 * tasks are served in the order they asked.
 */
export type SlotPriority = 'first' | 'soon' | 'later';

/**
 * Resolves with the slot's release once one is free. With a `signal` that aborts first, the request is
 * withdrawn and the promise rejects with the signal's reason.
 */
export type AcquireSlot = (priority?: SlotPriority, signal?: AbortSignal) => Promise<() => void>;

/** `first`: the intake lane's slots; `later`: the background lane's, shared by `soon` and `later` work. */
export interface LaneSizes {
  first: number;
  later: number;
}

export function makePrioritySlots(sizes: LaneSizes): AcquireSlot {
  const intake = makeRankedSlots(sizes.first);
  const background = makeRankedSlots(sizes.later);
  return (priority = 'first', signal) => {
    if (priority === 'first') return intake(0, signal);
    return background(priority === 'soon' ? 0 : 1, signal);
  };
}
