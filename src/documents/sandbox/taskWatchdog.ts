import { SECOND } from '../../lib/units.js';

/**
 * The limits of one document-sandbox task, kept from outside its child (documentSandbox.ts): the child's
 * resident memory, read every WATCH_INTERVAL_MS, and its time. For a child at normal priority the time is
 * wall-clock time. For a niced (background) child it is the CPU the child used during the task, with a
 * wall-clock backstop of NICED_WALL_FACTOR times the limit: a niced child may wait for the CPU as long as intake
 * keeps it busy, and waiting must not fail a fax as "takes too long". Only where the CPU can be read
 * (CPU_CLOCK_READABLE): elsewhere a niced child has the plain wall-clock limit too.
 */
export type KillReason = 'memory' | 'time';

/** What the watchdog needs of the child: its readings, and a way to end it. */
export interface WatchedChild {
  /** Resident bytes; 0 when it cannot be read. */
  readRss(): Promise<number>;
  /** CPU time used so far, in ms; null when it cannot be read. */
  readCpuMs(): Promise<number | null>;
  isAlive(): boolean;
  /** SIGKILL: a busy parser never sees a gentler signal. */
  kill(): void;
}

export interface WatchedLimits {
  timeMs: number;
  memoryBytes: number;
}

export interface TaskWatchdog {
  /** Why the watchdog killed the child; null while it has not. */
  readonly killedFor: KillReason | null;
  /** The largest resident size seen, for the log. */
  readonly peakRss: number;
  /** The time limit, as the outcome of a task killed for time states it. */
  readonly overTime: string;
  /** Once the task has ended: no more looks, and no kill (the child may be running the next task). */
  stop(): void;
}

/** Linux's /proc tells a process's CPU time (childPool.ts, readCpuMs); no other system faxbridge runs on does. */
export const CPU_CLOCK_READABLE = process.platform === 'linux';

/** A niced child is killed once it has used `timeMs` of CPU, or at this many times `timeMs` of waiting. */
export const NICED_WALL_FACTOR = 10;

/** How often the child's resident memory is read; inflating at ~1 GB/s, it grows ~25 MB between two looks. */
const WATCH_INTERVAL_MS = 25;

/** `onCpuClock`: the time limit counts the child's CPU (a niced child, where CPU_CLOCK_READABLE). */
export function startTaskWatchdog(
  child: WatchedChild,
  limits: WatchedLimits,
  onCpuClock: boolean,
): TaskWatchdog {
  let stopped = false;
  let killedFor: KillReason | null = null;
  let peakRss = 0;
  const kill = (reason: KillReason): void => {
    killedFor ??= reason;
    child.kill();
  };
  const seconds = Math.round(limits.timeMs / SECOND);
  const wallMs = limits.timeMs * (onCpuClock ? NICED_WALL_FACTOR : 1);
  const overTime = onCpuClock
    ? `over ${seconds} s of CPU or ${Math.round(wallMs / SECOND)} s in all`
    : `over ${seconds} s`;
  const timer = setTimeout(() => kill('time'), wallMs);
  // The CPU the (reused) child had used before this task, from the first look that could read it. A read can
  // fail for passing reasons (EMFILE on a busy daemon): that look is skipped, never the CPU clock, which would
  // leave a niced child only the limit in wall-clock time and fail a fax for waiting.
  let cpuBefore: number | undefined;
  // The next look is scheduled only once the last read came back: never a pile of timers on a busy loop.
  let watch: NodeJS.Timeout | undefined;
  const look = (): void => {
    void Promise.all([child.readRss(), onCpuClock ? child.readCpuMs() : null]).then(([rss, cpuMs]) => {
      peakRss = Math.max(peakRss, rss);
      if (cpuMs !== null) cpuBefore ??= cpuMs;
      // A read that comes back after the task ended must not touch the child: it may be running the next.
      if (!stopped && rss > limits.memoryBytes) kill('memory');
      if (!stopped && cpuMs !== null && cpuBefore !== undefined && cpuMs - cpuBefore > limits.timeMs) {
        kill('time');
      }
      if (!stopped && child.isAlive()) watch = setTimeout(look, WATCH_INTERVAL_MS);
    });
  };
  look();
  return {
    get killedFor() {
      return killedFor;
    },
    get peakRss() {
      return peakRss;
    },
    get overTime() {
      return overTime;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(watch);
    },
  };
}
