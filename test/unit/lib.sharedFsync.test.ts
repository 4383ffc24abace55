import { describe, expect, it } from 'vitest';

import { makeSharedFsync } from '../../src/lib/sharedFsync.js';

/** An fsync the test finishes by hand, recording when each one started. */
function manualFsync() {
  const started: Array<{ finish: () => void; fail: (error: Error) => void }> = [];
  const fsyncOnce = () =>
    new Promise<void>((resolve, reject) => {
      started.push({ finish: resolve, fail: reject });
    });
  return { started, fsyncOnce };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('shared fsync', () => {
  it('a caller arriving while an fsync runs waits for the next one, which serves everyone who arrived meanwhile', async () => {
    const disk = manualFsync();
    const shared = makeSharedFsync(disk.fsyncOnce);
    const settled: string[] = [];
    const first = shared.sync().then(() => void settled.push('first'));
    const second = shared.sync().then(() => void settled.push('second'));
    const third = shared.sync().then(() => void settled.push('third'));
    await tick();
    expect(disk.started).toHaveLength(1);
    disk.started[0]!.finish();
    await first;
    await tick();
    // The first fsync may have begun before the others wrote: they were not released by it.
    expect(settled).toEqual(['first']);
    expect(disk.started).toHaveLength(2);
    disk.started[1]!.finish();
    await Promise.all([second, third]);
    expect(settled).toEqual(['first', 'second', 'third']);
    expect(disk.started).toHaveLength(2);
  });

  it('a failed fsync fails its callers only; the next one is tried afresh', async () => {
    const disk = manualFsync();
    const shared = makeSharedFsync(disk.fsyncOnce);
    const first = shared.sync();
    const second = shared.sync();
    await tick();
    disk.started[0]!.fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await tick();
    disk.started[1]!.finish();
    await expect(second).resolves.toBeUndefined();
    const third = shared.sync();
    await tick();
    disk.started[2]!.finish();
    await expect(third).resolves.toBeUndefined();
    await shared.idle();
  });
});
