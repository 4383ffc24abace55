import { MB, SECOND } from '../../lib/units.js';
import type { ChildUsage } from './childPool.js';

/**
 * The limits of one document-sandbox task, kept from outside its child (documentSandbox.ts): the child's
 * resident memory, read every WATCH_INTERVAL_MS, and its time. For a child at normal priority the time is
 * wall-clock time. For a niced (background) child it is the CPU the child used during the task, with a
 * wall-clock backstop of NICED_WALL_FACTOR times the limit: a niced child may wait for the CPU as long as intake
 * keeps it busy, and waiting must not fail a fax as "takes too long". Only where the CPU can be read
 * (CPU_CLOCK_READABLE): elsewhere a niced child has the plain wall-clock limit too.
 *
 * Why the child was killed: `memory` and `time` are the document's doing (it needs more than its limits);
 * `backstop` is the machine's: a niced child that used less CPU than its limit, still unfinished when the
 * backstop ran out, was kept waiting by other work. That is passing trouble, and its task may be tried again
 * later, when the machine is quieter. `aborted`: the caller gave up on the task (giveUp).
 */
export type KillReason = 'memory' | 'time' | 'backstop' | 'aborted';

/** What the watchdog needs of the child: its readings, and a way to end it. */
export interface WatchedChild {
  /** Resident bytes (0 when unreadable) and CPU time used so far in ms (null when unreadable), in one look. */
  readUsage(): ChildUsage;
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
  /** Which limit the child was killed at, in words for the outcome and the log; '' while it has not been. */
  readonly detail: string;
  /** Kills the child for the caller, who no longer wants the answer; nothing once stopped. */
  giveUp(): void;
  /** Once the task has ended: no more looks, and no kill (the child may be running the next task). */
  stop(): void;
}

/** Linux's /proc tells a process's CPU time (childPool.ts, readUsage); no other system faxbridge runs on does. */
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
  const wallMs = limits.timeMs * (onCpuClock ? NICED_WALL_FACTOR : 1);
  const timer = setTimeout(() => kill(onCpuClock ? 'backstop' : 'time'), wallMs);
  // The CPU the (reused) child had used before this task, from the first look that could read it. A read can
  // fail for passing reasons (EMFILE on a busy daemon): that look is skipped, never the CPU clock, which would
  // leave a niced child only the limit in wall-clock time and fail a fax for waiting.
  let cpuBefore: number | undefined;
  let watch: NodeJS.Timeout | undefined;
  const look = (): void => {
    const { rssBytes: rss, cpuMs: cpuReading } = child.readUsage();
    const cpuMs = onCpuClock ? cpuReading : null;
    peakRss = Math.max(peakRss, rss);
    if (cpuMs !== null) cpuBefore ??= cpuMs;
    if (rss > limits.memoryBytes) kill('memory');
    if (cpuMs !== null && cpuBefore !== undefined && cpuMs - cpuBefore > limits.timeMs) kill('time');
    if (!stopped && child.isAlive()) watch = setTimeout(look, WATCH_INTERVAL_MS);
  };
  look();
  return {
    get killedFor() {
      return killedFor;
    },
    get peakRss() {
      return peakRss;
    },
    get detail() {
      return killedFor ? describeKill(killedFor, limits, onCpuClock) : '';
    },
    giveUp() {
      if (!stopped) kill('aborted');
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(watch);
    },
  };
}

function describeKill(reason: KillReason, limits: WatchedLimits, onCpuClock: boolean): string {
  const time = seconds(limits.timeMs);
  if (reason === 'memory') return `over ${Math.round(limits.memoryBytes / MB)} MB`;
  if (reason === 'aborted') return 'given up by its caller';
  if (reason === 'backstop') {
    return `not done after ${seconds(limits.timeMs * NICED_WALL_FACTOR)} in all, with less than ${time} of CPU: the machine was busy`;
  }
  return onCpuClock ? `over ${time} of CPU` : `over ${time}`;
}

/** `120 s`, `0.3 s`: a tenth of a second is what the limits of tests come down to. */
function seconds(ms: number): string {
  return `${Math.round(ms / (SECOND / 10)) / 10} s`;
}
