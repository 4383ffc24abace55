import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { startTaskWatchdog, type WatchedChild } from '../../src/documents/sandbox/taskWatchdog.js';
import { MB, SECOND } from '../../src/lib/units.js';

/*
 * The watchdog of one document-sandbox task, on fake time (the style guide's one other fake besides Telnyx),
 * with a child whose readings the test sets: what /proc would say of a real child at each look.
 */

/** A child that is never really there: its readings are the test's, its kills are counted. */
function scriptedChild(): WatchedChild & { cpuMs: number | null; rssBytes: number; kills: number } {
  const child = {
    cpuMs: 0 as number | null,
    rssBytes: 50 * MB,
    kills: 0,
    readUsage: () => ({ rssBytes: child.rssBytes, cpuMs: child.cpuMs }),
    isAlive: () => child.kills === 0,
    kill: () => {
      child.kills += 1;
    },
  };
  return child;
}

const LIMITS = { timeMs: 1 * SECOND, memoryBytes: 500 * MB };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the CPU clock of a niced child', () => {
  it('survives a first reading that failed (EMFILE): the limit still counts CPU, not waiting', async () => {
    const child = scriptedChild();
    // The first look cannot read /proc; later ones can.
    child.cpuMs = null;
    const watchdog = startTaskWatchdog(child, LIMITS, true);
    await vi.advanceTimersByTimeAsync(10);
    child.cpuMs = 4000;
    // Three times the limit of waiting for the CPU, using none of it: the child is left to wait.
    await vi.advanceTimersByTimeAsync(3 * SECOND);
    expect(child.kills).toBe(0);
    expect(watchdog.killedFor).toBeNull();

    // Past the limit in CPU time, counted from the first reading that worked: killed for time.
    child.cpuMs = 4000 + LIMITS.timeMs + 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(child.kills).toBe(1);
    expect(watchdog.killedFor).toBe('time');
    expect(watchdog.detail).toBe('over 1 s of CPU');
    watchdog.stop();
  });

  it('skips any reading that fails, and counts on from the first one', async () => {
    const child = scriptedChild();
    child.cpuMs = 200;
    const watchdog = startTaskWatchdog(child, LIMITS, true);
    await vi.advanceTimersByTimeAsync(100);
    child.cpuMs = null;
    await vi.advanceTimersByTimeAsync(3 * SECOND);
    child.cpuMs = 200 + LIMITS.timeMs - 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(child.kills).toBe(0);
    child.cpuMs = 200 + LIMITS.timeMs + 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(watchdog.killedFor).toBe('time');
    watchdog.stop();
  });
});

describe('the wall-clock backstop of a niced child', () => {
  it('ends a child kept waiting for the CPU, as the machine’s trouble, not the document’s', async () => {
    const child = scriptedChild();
    const watchdog = startTaskWatchdog(child, LIMITS, true);
    // Intake keeps the CPU: the child gets a little of it, never its limit.
    child.cpuMs = LIMITS.timeMs / 2;
    await vi.advanceTimersByTimeAsync(10 * LIMITS.timeMs - 50);
    expect(child.kills).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(child.kills).toBe(1);
    expect(watchdog.killedFor).toBe('backstop');
    expect(watchdog.detail).toBe(
      'not done after 10 s in all, with less than 1 s of CPU: the machine was busy',
    );
    watchdog.stop();
  });
});

describe('a child at normal priority', () => {
  it('is killed at the limit in wall-clock time, and past its memory limit', async () => {
    const child = scriptedChild();
    const watchdog = startTaskWatchdog(child, LIMITS, false);
    await vi.advanceTimersByTimeAsync(LIMITS.timeMs - 50);
    expect(child.kills).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(watchdog.killedFor).toBe('time');
    expect(watchdog.detail).toBe('over 1 s');
    watchdog.stop();

    const big = scriptedChild();
    const memoryWatch = startTaskWatchdog(big, LIMITS, false);
    big.rssBytes = LIMITS.memoryBytes + 1;
    await vi.advanceTimersByTimeAsync(100);
    expect(memoryWatch.killedFor).toBe('memory');
    expect(memoryWatch.detail).toBe('over 500 MB');
    expect(memoryWatch.peakRss).toBe(LIMITS.memoryBytes + 1);
    memoryWatch.stop();
  });

  it('never touches the child once stopped: it may be running the next task', async () => {
    const child = scriptedChild();
    const watchdog = startTaskWatchdog(child, LIMITS, false);
    watchdog.stop();
    child.rssBytes = LIMITS.memoryBytes * 2;
    await vi.advanceTimersByTimeAsync(LIMITS.timeMs * 20);
    expect(child.kills).toBe(0);
    expect(watchdog.killedFor).toBeNull();
  });
});
