import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

import { compiledEntry } from '../../lib/compiledEntry.js';
import { MB, SECOND } from '../../lib/units.js';
import type { SandboxReply } from './sandboxTasks.js';

/**
 * The document sandbox's children (see documentSandbox.ts for why they are reused, and for which tasks). A child
 * goes back to the idle pool after a task that ended well and is retired after MAX_TASKS_PER_CHILD tasks, when
 * its resident memory stays above RECYCLE_RSS, after IDLE_MS unused, or when it dies while idle; idle children
 * hold no reference on the event loop, so they never keep the daemon (or a test) from exiting.
 *
 * MAX_TASKS_PER_CHILD is not for safety (a task cannot change the code the next one runs with, documentSandbox.ts)
 * nor for memory (the RECYCLE_RSS check does that), only a bound on what no check sees. A new child costs ~0.3 s of
 * CPU to load pdf-lib (0.7 s with the fonts of the transmitted PDF) and runs cold for its first tasks: with 200 here,
 * under a burst of 1,000 messages the sandbox used 9.6 ms of CPU per message and the daemon accepted 78 msg/s; with
 * 1,000, 3.1-4.3 ms and 93-111 msg/s (bench/README.md, tenth session).
 */
const MAX_TASKS_PER_CHILD = 1000;
/** A child still this large after a task would carry that memory into the next one: retired instead. */
const RECYCLE_RSS = 256 * MB;
const IDLE_MS = 30 * SECOND;
/** Kept of the child's stderr (V8's "heap limit" message, a crash's trace) for the log and for telling a crash. */
const MAX_STDERR = 64 * 1024;
/** Linux's page size on the machines faxbridge runs on (x86-64 and arm64 with 4 KB pages). */
const PAGE_BYTES = 4096;

export interface SandboxChild {
  process: ChildProcess;
  heapMb: number;
  /** The niceness it was started with: 0, or BACKGROUND_NICE for work nobody waits on. */
  nice: number;
  /** Tasks this child has finished; 0 for a child that has not run one yet. */
  tasks: number;
  /** This task's stderr (reset for each task): V8's heap message or a crash's trace. */
  stderr: string;
  /** The running task's handlers; null while idle. */
  onReply: ((reply: SandboxReply) => void) | null;
  onClose: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  idleTimer?: NodeJS.Timeout;
}

export interface ChildPool {
  /** An idle child with this heap limit and niceness when `reusable` and one is alive, else a new one. */
  take(heapMb: number, nice: number, reusable: boolean): SandboxChild;
  /** Resolves once the child is back in the pool or retired, so a freed slot finds it there. */
  giveBack(child: SandboxChild, healthy: boolean): Promise<void>;
  closeIdle(): void;
}

export function makeChildPool(): ChildPool {
  const idle: SandboxChild[] = [];
  const forget = (child: SandboxChild): void => {
    clearTimeout(child.idleTimer);
    const at = idle.indexOf(child);
    if (at >= 0) idle.splice(at, 1);
  };
  const retire = (child: SandboxChild): void => {
    forget(child);
    child.process.kill('SIGKILL');
  };
  return {
    take(heapMb, nice, reusable) {
      let child: SandboxChild | undefined;
      while (reusable && !child) {
        const at = idle.findIndex((candidate) => candidate.heapMb === heapMb && candidate.nice === nice);
        if (at < 0) break;
        const [candidate] = idle.splice(at, 1);
        if (candidate && isAlive(candidate)) child = candidate;
        else if (candidate) retire(candidate);
      }
      child ??= forkChild(heapMb, nice, forget);
      clearTimeout(child.idleTimer);
      setReferenced(child, true);
      child.stderr = '';
      return child;
    },
    async giveBack(child, healthy) {
      child.onReply = null;
      child.onClose = null;
      child.tasks += 1;
      if (!healthy || child.tasks >= MAX_TASKS_PER_CHILD || !isAlive(child)) return retire(child);
      const rss = readUsage(child.process).rssBytes;
      if (rss > RECYCLE_RSS || !isAlive(child)) return retire(child);
      setReferenced(child, false);
      child.idleTimer = setTimeout(() => retire(child), IDLE_MS).unref();
      idle.push(child);
    },
    closeIdle() {
      for (const child of [...idle]) retire(child);
    },
  };
}

/**
 * What V8 prints when a process ends for its heap limit (`--max-old-space-size`) or an allocation it cannot make;
 * read from a child's stderr by the document sandbox and the MIME readers.
 */
export const V8_HEAP_LIMIT_MESSAGE = /heap limit|Allocation failed|out of memory|invalid size/i;

/** The niceness of background children: the kernel gives them about a tenth of a core's share against work at 0. */
export const BACKGROUND_NICE = 10;

/**
 * A `node` child on one of our compiled scripts (lib/compiledEntry.ts), with a V8 heap limit and an IPC channel;
 * its stderr is piped for the caller to read (V8_HEAP_LIMIT_MESSAGE), its stdout dropped. A failed spawn closes
 * like any end, so the caller's 'close' handler hears it.
 */
export function forkWithHeapLimit(
  script: string,
  heapMb: number,
  serialization: 'json' | 'advanced',
): ChildProcess {
  const child = fork(script, [], {
    // Only our flags: a test runner's or debugger's would change how the child behaves.
    execArgv: [`--max-old-space-size=${heapMb}`],
    env: withoutNodeOptions(process.env),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization,
  });
  child.stderr?.setEncoding('utf8');
  child.on('error', () => undefined);
  return child;
}

/**
 * The daemon's environment without NODE_OPTIONS, which node reads before its command line: what an operator sets
 * there for the daemon (an APM agent's `--require`, `--inspect`, a heap size) is not for processes that read
 * strangers' documents under limits of their own.
 */
function withoutNodeOptions(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...rest } = env;
  return rest;
}

function forkChild(heapMb: number, nice: number, onGone: (child: SandboxChild) => void): SandboxChild {
  const process = forkWithHeapLimit(compiledEntry(import.meta.url, 'sandboxChild.js'), heapMb, 'json');
  // Before its first task arrives (it is still loading node); what it starts later (pdftoppm) inherits it.
  if (nice !== 0 && process.pid !== undefined) lowerPriority(process.pid, nice);
  const child: SandboxChild = { process, heapMb, nice, tasks: 0, stderr: '', onReply: null, onClose: null };
  process.stderr?.on('data', (text: string) => {
    if (child.stderr.length < MAX_STDERR) child.stderr += text.slice(0, MAX_STDERR - child.stderr.length);
  });
  process.on('message', (reply: SandboxReply) => child.onReply?.(reply));
  process.once('close', (code, signal) => {
    // An idle child that died (killed from outside, the OOM killer) must never be handed a task.
    onGone(child);
    child.onClose?.(code, signal);
  });
  return child;
}

/**
 * Lowering needs no privilege. It fails only when the child is already gone (a failed spawn), which its task
 * then reports as a crash.
 */
function lowerPriority(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch {
    // gone already
  }
}

export function isAlive(child: SandboxChild): boolean {
  return child.process.exitCode === null && child.process.signalCode === null && child.process.connected;
}

function setReferenced(child: SandboxChild, referenced: boolean): void {
  const handles = [child.process, child.process.channel, child.process.stderr] as Array<
    { ref?: () => void; unref?: () => void } | null | undefined
  >;
  for (const handle of handles) {
    if (referenced) handle?.ref?.();
    else handle?.unref?.();
  }
}

/** Clock ticks per second in /proc/PID/stat: 100 on every Linux faxbridge runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** One look at a child: resident bytes (0 when unreadable) and CPU time in ms (null when unreadable). */
export interface ChildUsage {
  rssBytes: number;
  cpuMs: number | null;
}

/**
 * Resident memory and CPU time of a child from one read of /proc/PID/stat (Linux only; elsewhere the heap limit
 * and the wall-clock limit alone apply): the watchdog looks every 25 ms, one file read per look.
 */
/**
 * Read synchronously: /proc is made by the kernel on the spot and never waits for a disk, and an asynchronous
 * read is five trips through libuv's thread pool (open, fstat, read, read, close), where each look of every
 * running task's watchdog queued behind the fsyncs of mail being accepted (about 2 % of the daemon's main
 * thread at ~30 msg/s, bench/profileIngest.ts).
 */
export function readUsage(child: ChildProcess): ChildUsage {
  if (!child.pid || child.exitCode !== null) return { rssBytes: 0, cpuMs: null };
  try {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    // Counted after the command name, which may hold spaces: utime and stime are fields 14 and 15, rss (pages) 24.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      rssBytes: Number(fields[21] ?? 0) * PAGE_BYTES,
      cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return { rssBytes: 0, cpuMs: null };
  }
}
