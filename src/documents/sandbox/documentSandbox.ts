import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { MB, SECOND } from '../../lib/units.js';
import type { Logger } from '../../log.js';
import type {
  SandboxReply,
  SandboxRequest,
  SandboxTaskInput,
  SandboxTaskName,
  SandboxTaskOutput,
} from './sandboxTasks.js';

/**
 * Runs document work (parsing and converting files strangers sent) in a child process that can be killed and is
 * capped, so no document can freeze or bloat the daemon: a 4 KB PDF can expand to gigabytes, and a synchronous
 * parse cannot be interrupted from inside its own process. Each task runs in a `node` child with:
 * - a V8 heap limit (`--max-old-space-size`), and a watchdog on its resident memory, which also counts the
 *   buffers outside the heap where inflated data lives; past `memoryBytes` it is killed;
 * - a wall-clock limit, past which it is killed (SIGKILL: a busy parser never sees a gentler signal);
 * - a shared bound on how many tasks run at once, so a burst of documents queues instead of multiplying the
 *   memory the limits allow.
 * Files go in and out by path; only small JSON messages cross the IPC channel. Tasks are listed in sandboxTasks.ts.
 *
 * **Children are reused** for the PDF tasks: starting `node` and loading pdf-lib costs about 0.4 s of CPU, many
 * times the work of checking an ordinary PDF, and paying it for every message and every fax would make the
 * sandbox the daemon's main cost. A child goes back to the idle pool after a task that ended well, and is retired
 * after MAX_TASKS_PER_CHILD tasks, when its resident memory stays above RECYCLE_RSS, or after IDLE_MS unused (an
 * idle daemon keeps no children). A child that hit a limit or crashed is never reused. This is safe for those
 * tasks because they are plain JavaScript over files: a document cannot change the code the next one runs with.
 * The conversions (libvips, the HEIC decoder, LibreOffice) run native decoders on what strangers sent, so each of
 * them still gets a fresh child.
 */
export interface SandboxLimits {
  timeMs: number;
  /** Resident memory of the child (heap, buffers, code). */
  memoryBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 60 * SECOND, memoryBytes: 768 * MB };
/** Two children at most by default: the daemon's own work keeps a core on a small machine. */
export const DEFAULT_SANDBOX_CONCURRENCY = 2;

/** Tasks that run native decoders on a stranger's file: a fresh child each time (see above). */
const FRESH_CHILD_TASKS: ReadonlySet<SandboxTaskName> = new Set(['convertDocument', 'unwrapTnef']);
const MAX_TASKS_PER_CHILD = 200;
/** A child still this large after a task would carry that memory into the next one: retired instead. */
const RECYCLE_RSS = 256 * MB;
const IDLE_MS = 30 * SECOND;

/** `memory` and `time`: killed at a limit. `crash`: the child died on its own or the task threw. */
export type SandboxOutcome<T> =
  { ok: true; value: T } | { ok: false; limit: 'memory' | 'time' | 'crash'; detail: string };

export interface SandboxRunOptions {
  limits?: Partial<SandboxLimits>;
  log?: Logger;
}

export interface DocumentSandbox {
  run<N extends SandboxTaskName>(
    task: N,
    input: SandboxTaskInput<N>,
    options?: SandboxRunOptions,
  ): Promise<SandboxOutcome<SandboxTaskOutput<N>>>;
  /** Ends the idle children now (they also end on their own after IDLE_MS); tasks running are not touched. */
  closeIdle(): void;
}

export interface DocumentSandboxOptions {
  concurrency?: number;
  limits?: Partial<SandboxLimits>;
}

export function makeDocumentSandbox(options: DocumentSandboxOptions = {}): DocumentSandbox {
  const defaults = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
  const acquire = makeSlots(options.concurrency ?? DEFAULT_SANDBOX_CONCURRENCY);
  const pool = makeChildPool();
  return {
    async run(task, input, runOptions = {}) {
      const release = await acquire();
      try {
        const limits = { ...defaults, ...runOptions.limits };
        const reusable = !FRESH_CHILD_TASKS.has(task);
        const child = pool.take(heapMbFor(limits), reusable);
        const outcome = await runTask(child, task, input, limits, runOptions.log);
        pool.giveBack(child, outcome.ok && reusable);
        return outcome as SandboxOutcome<SandboxTaskOutput<typeof task>>;
      } finally {
        release();
      }
    },
    closeIdle: () => pool.closeIdle(),
  };
}

let shared: DocumentSandbox | undefined;

/**
 * The process's one sandbox. Shared on purpose: the concurrency bound is what keeps many documents from adding
 * up, and it only holds if SMTP intake, received faxes and the built-in simulator all wait on the same slots.
 */
export function sharedDocumentSandbox(): DocumentSandbox {
  shared ??= makeDocumentSandbox();
  return shared;
}

/** How often the child's resident memory is read; inflating at ~1 GB/s, it grows ~25 MB between two looks. */
const WATCH_INTERVAL_MS = 25;
/** Kept of the child's stderr (V8's "heap limit" message, a crash's trace) for the log and for telling a crash. */
const MAX_STDERR = 64 * 1024;
/** Linux's page size on the machines faxbridge runs on (x86-64 and arm64 with 4 KB pages). */
const PAGE_BYTES = 4096;

/** The heap gets three quarters of the memory limit: the rest is for file bytes and inflated data. */
function heapMbFor(limits: SandboxLimits): number {
  return Math.max(32, Math.floor((limits.memoryBytes / MB) * 0.75));
}

interface SandboxChild {
  process: ChildProcess;
  heapMb: number;
  tasks: number;
  /** This task's stderr (reset for each task): V8's heap message or a crash's trace. */
  stderr: string;
  /** The running task's handlers; null while idle. */
  onReply: ((reply: SandboxReply) => void) | null;
  onClose: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  idleTimer?: NodeJS.Timeout;
}

interface ChildPool {
  take(heapMb: number, reusable: boolean): SandboxChild;
  giveBack(child: SandboxChild, healthy: boolean): void;
  closeIdle(): void;
}

function makeChildPool(): ChildPool {
  const idle: SandboxChild[] = [];
  const retire = (child: SandboxChild): void => {
    clearTimeout(child.idleTimer);
    const at = idle.indexOf(child);
    if (at >= 0) idle.splice(at, 1);
    child.process.kill('SIGKILL');
  };
  return {
    take(heapMb, reusable) {
      const at = reusable ? idle.findIndex((child) => child.heapMb === heapMb) : -1;
      const child = at >= 0 ? idle.splice(at, 1)[0]! : forkChild(heapMb);
      clearTimeout(child.idleTimer);
      setReferenced(child, true);
      child.stderr = '';
      return child;
    },
    giveBack(child, healthy) {
      child.onReply = null;
      child.onClose = null;
      child.tasks += 1;
      if (!healthy || child.tasks >= MAX_TASKS_PER_CHILD || !isAlive(child)) return retire(child);
      void readRss(child.process).then((rss) => {
        if (rss > RECYCLE_RSS || !isAlive(child)) return retire(child);
        // Idle children must not keep the daemon (or a test) from exiting.
        setReferenced(child, false);
        child.idleTimer = setTimeout(() => retire(child), IDLE_MS).unref();
        idle.push(child);
      });
    },
    closeIdle() {
      for (const child of [...idle]) retire(child);
    },
  };
}

function forkChild(heapMb: number): SandboxChild {
  const process = fork(childEntry(), [], {
    // Only our flags: a test runner's or debugger's would change how the child behaves.
    execArgv: [`--max-old-space-size=${heapMb}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  const child: SandboxChild = { process, heapMb, tasks: 0, stderr: '', onReply: null, onClose: null };
  process.stderr?.setEncoding('utf8');
  process.stderr?.on('data', (text: string) => {
    if (child.stderr.length < MAX_STDERR) child.stderr += text.slice(0, MAX_STDERR - child.stderr.length);
  });
  process.on('message', (reply: SandboxReply) => child.onReply?.(reply));
  process.once('close', (code, signal) => {
    clearTimeout(child.idleTimer);
    child.onClose?.(code, signal);
  });
  // A failed spawn also closes; the task (if any) then reports the crash.
  process.on('error', () => undefined);
  return child;
}

function isAlive(child: SandboxChild): boolean {
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

function runTask(
  child: SandboxChild,
  task: string,
  input: unknown,
  limits: SandboxLimits,
  log: Logger | undefined,
): Promise<SandboxOutcome<unknown>> {
  return new Promise((resolve) => {
    let settled = false;
    let killedFor: 'memory' | 'time' | null = null;
    let peakRss = 0;
    const finish = (outcome: SandboxOutcome<unknown>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(watch);
      log?.debug({ task, peakRss, tasksInChild: child.tasks + 1 }, 'document sandbox task ended');
      resolve(outcome);
    };
    const kill = (reason: 'memory' | 'time'): void => {
      killedFor ??= reason;
      child.process.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('time'), limits.timeMs);
    // The next look is scheduled only once the last read came back: never a pile of timers on a busy loop.
    let watch: NodeJS.Timeout | undefined;
    const look = (): void => {
      void readRss(child.process).then((rss) => {
        peakRss = Math.max(peakRss, rss);
        if (rss > limits.memoryBytes) kill('memory');
        if (!settled && isAlive(child)) watch = setTimeout(look, WATCH_INTERVAL_MS);
      });
    };
    look();
    child.onReply = (reply) => {
      relayLog(log, reply.log ?? []);
      if (reply.ok) finish({ ok: true, value: reply.value });
      else finish({ ok: false, limit: 'crash', detail: reply.error });
    };
    child.onClose = (code, signal) => {
      log?.debug({ task, code, signal, stderr: child.stderr || undefined }, 'document sandbox child ended');
      if (killedFor === 'memory') {
        return finish({
          ok: false,
          limit: 'memory',
          detail: `over ${Math.round(limits.memoryBytes / MB)} MB`,
        });
      }
      if (killedFor === 'time') {
        return finish({ ok: false, limit: 'time', detail: `over ${Math.round(limits.timeMs / SECOND)} s` });
      }
      // V8 aborts the process when the heap limit is reached; that is the memory limit doing its job.
      if (/heap limit|Allocation failed|out of memory/i.test(child.stderr)) {
        return finish({ ok: false, limit: 'memory', detail: `heap over ${child.heapMb} MB` });
      }
      finish({ ok: false, limit: 'crash', detail: `exited with ${signal ?? `code ${code}`}` });
    };
    if (!isAlive(child)) return child.onClose(child.process.exitCode, child.process.signalCode);
    child.process.send({ task, input } satisfies SandboxRequest, (error) => {
      if (error) child.process.kill('SIGKILL');
    });
  });
}

async function readRss(child: ChildProcess): Promise<number> {
  if (!child.pid || child.exitCode !== null) return 0;
  try {
    // statm's second field is resident pages; /proc is Linux-only, elsewhere the heap limit alone applies.
    const statm = await readFile(`/proc/${child.pid}/statm`, 'utf8');
    return Number(statm.split(' ')[1] ?? 0) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

/** The child's log lines (pino JSON) go to the daemon's log at debug level, under their own message. */
function relayLog(log: Logger | undefined, lines: string[]): void {
  if (!log) return;
  for (const line of lines) {
    try {
      const { msg, level: _level, ...fields } = JSON.parse(line) as Record<string, unknown>;
      log.debug(fields, typeof msg === 'string' ? msg : 'document sandbox');
    } catch {
      log.debug({ line }, 'document sandbox');
    }
  }
}

/**
 * The compiled child entry. From dist/ it sits next to this file; when this module runs from its TypeScript
 * source (the unit tests), the compiled copy in dist/ is used, so `npm run build` must have run.
 */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'sandboxChild.js');
  const marker = `${sep}src${sep}`;
  const at = here.lastIndexOf(marker);
  const compiled = join(
    here.slice(0, at),
    'dist',
    'src',
    dirname(here.slice(at + marker.length)),
    'sandboxChild.js',
  );
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` first`);
  return compiled;
}

/** A counting semaphore: resolves with a release function once one of `size` slots is free. */
function makeSlots(size: number): () => Promise<() => void> {
  let free = size;
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
