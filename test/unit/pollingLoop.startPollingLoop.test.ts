import { describe, expect, it } from 'vitest';

import { type PollingLoop, startPollingLoop } from '../../src/lib/pollingLoop.js';
import { HOUR } from '../../src/lib/units.js';

/** Resolves when `predicate` holds; the test's own timeout bounds it. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function recordingLog() {
  const lines: { fields: object; message: string }[] = [];
  return { lines, error: (fields: object, message: string) => void lines.push({ fields, message }) };
}

describe('startPollingLoop', () => {
  it('logs a pass that throws and keeps polling', async () => {
    const log = recordingLog();
    let passes = 0;
    const loop = startPollingLoop(
      async () => {
        passes++;
        if (passes === 1) throw new Error('database is locked');
        if (passes === 2) return;
      },
      { everyMs: 10, name: 'outbox pass', log },
    );
    await until(() => passes >= 2);
    await loop.stop();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toBe('outbox pass failed');
    expect(log.lines[0]!.fields).toMatchObject({ err: { message: 'database is locked' } });
  });

  it('runs again at once when woken during a pass, even a pass that ends right after the wake', async () => {
    let passes = 0;
    const loop: PollingLoop = startPollingLoop(
      async () => {
        passes++;
        // A full batch asks for another pass at once (the job runner does this), then the pass ends.
        if (passes === 1) loop.wake();
      },
      { everyMs: HOUR, name: 'job claim', log: recordingLog() },
    );
    await until(() => passes >= 2);
    await loop.stop();
    expect(passes).toBe(2);
  });

  it('never runs two passes at once, and stop waits for the pass in progress', async () => {
    let active = 0;
    let most = 0;
    let passes = 0;
    let release: () => void = () => undefined;
    const loop = startPollingLoop(
      async () => {
        active++;
        passes++;
        most = Math.max(most, active);
        if (passes === 1) await new Promise<void>((resolve) => (release = resolve));
        active--;
      },
      { everyMs: HOUR, name: 'retention sweep', log: recordingLog() },
    );
    await until(() => passes === 1);
    loop.wake();
    loop.wake();
    const stopped = loop.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    release();
    await stopped;
    expect(most).toBe(1);
    expect(active).toBe(0);
  });
});
