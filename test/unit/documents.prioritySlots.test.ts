import { describe, expect, it } from 'vitest';

import { makePrioritySlots } from '../../src/documents/sandbox/prioritySlots.js';

/** The order in which queued requests get their slot, as each one is released in turn. */
async function servedOrder(requests: Array<[string, Promise<() => void>]>): Promise<string[]> {
  const order: string[] = [];
  for (const [name, request] of requests) {
    void request.then((release) => {
      order.push(name);
      // Hands the slot on at once, to whoever is next.
      queueMicrotask(release);
    });
  }
  await Promise.all(requests.map(([, request]) => request));
  return order;
}

describe('the background lane', () => {
  it('serves a preview (soon) ahead of builds (later) that asked before it', async () => {
    const acquire = makePrioritySlots({ first: 1, later: 1 });
    const held = await acquire('later');
    const queued: Array<[string, Promise<() => void>]> = [
      ['build 1', acquire('later')],
      ['build 2', acquire('later')],
      ['preview 1', acquire('soon')],
      ['build 3', acquire('later')],
      ['preview 2', acquire('soon')],
    ];
    const order = servedOrder(queued);
    held();
    expect(await order).toEqual(['preview 1', 'preview 2', 'build 1', 'build 2', 'build 3']);
  });

  it('withdraws a request whose caller gave up, and passes the slot to the next', async () => {
    const acquire = makePrioritySlots({ first: 1, later: 1 });
    const held = await acquire('later');
    const giveUp = new AbortController();
    const late = acquire('soon', giveUp.signal);
    const next = acquire('later');
    const reason = new Error('the preview is late');
    giveUp.abort(reason);
    await expect(late).rejects.toBe(reason);
    held();
    // The build behind it gets the slot, and when it is done the lane is free again, with no slot lost.
    (await next)();
    const again = await acquire('soon');
    again();
    await expect(acquire('later', AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('never makes intake wait, however much background work queues', async () => {
    const acquire = makePrioritySlots({ first: 1, later: 1 });
    const held = await acquire('later');
    const waiting = [acquire('soon'), acquire('later')];
    const intake = await acquire('first');
    intake();
    held();
    for (const request of waiting) (await request)();
  });
});
