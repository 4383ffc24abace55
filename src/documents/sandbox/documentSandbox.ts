import { MB, SECOND } from '../../lib/units.js';
import type { Logger } from '../../log.js';
import {
  BACKGROUND_NICE,
  isAlive,
  makeChildPool,
  readUsage,
  type SandboxChild,
  V8_HEAP_LIMIT_MESSAGE,
} from './childPool.js';
import { makePrioritySlots, type SlotPriority } from './prioritySlots.js';
import type { SandboxRequest, SandboxTaskInput, SandboxTaskName, SandboxTaskOutput } from './sandboxTasks.js';
import { CPU_CLOCK_READABLE, type KillReason, startTaskWatchdog } from './taskWatchdog.js';

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
 * **Two lanes** (prioritySlots.ts): `first`, for work someone waits on (a sender at the end of DATA), has
 * `concurrency` slots; background work (`soon`: a receipt's preview, which its mail waits for, ahead of `later`:
 * a queued fax's transmitted PDF) has `backgroundConcurrency` slots of its own, and its children run at nice
 * BACKGROUND_NICE. So a sender's check never waits for a slot behind a build, and on a busy machine the kernel
 * gives the background children only what the daemon and the intake children leave: background work catches up
 * when intake is quiet.
 *
 * **Memory, worst case**: every slot of both lanes busy with a task at its memory limit, each child killed past
 * it: `concurrency` × the largest intake limit (1536 MB for a merge, 768 MB otherwise) plus
 * `backgroundConcurrency` × BACKGROUND_MEMORY_BYTES (1536 MB; a preview's pdftoppm, a process of its own, is
 * capped at 512 MB of address space and needs far less); with the defaults 2 × 1536 + 2 × 1536 MB = 6 GB, against
 * 3 GB while the lanes were shared. Idle children come on top for up to 30 s: at most one per slot and kind of
 * child (heap size and lane: intake checks, merges, background), each retired above 256 MB resident or after
 * 1,000 tasks (childPool.ts); a background child holds about 140 MB after building and drawing 30 ordinary
 * faxes. Both concurrencies are fixed (DEFAULT_SANDBOX_CONCURRENCY, DEFAULT_BACKGROUND_CONCURRENCY): no config key sets
 * them, so the daemon's one shared sandbox needs the worst case's memory; only tests make sandboxes of their own
 * with other counts.
 *
 * **Children are reused** for the PDF tasks (childPool.ts): starting `node` and loading pdf-lib costs about 0.4 s
 * of CPU, many times the work of checking an ordinary PDF, and paying it for every message and every fax would
 * make the sandbox the daemon's main cost. A child that hit a limit or crashed is never reused. This is safe for
 * those tasks because the child runs plain JavaScript over files (qpdf, when a PDF needs decrypting, is a process
 * of its own): a document cannot change the code the next one runs with. The conversions (libvips, the HEIC
 * decoder) run native decoders inside the child on what strangers sent, so each of them gets a fresh child.
 */
export interface SandboxLimits {
  /**
   * Wall-clock time; for background tasks, CPU time instead, with a wall-clock backstop of NICED_WALL_FACTOR
   * times it (taskWatchdog.ts): a niced child may wait for the CPU as long as intake keeps it busy, and waiting
   * must not fail a fax as "takes too long".
   */
  timeMs: number;
  /** Resident memory of the child (heap, buffers, code). */
  memoryBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 60 * SECOND, memoryBytes: 768 * MB };
/** Two intake children at most by default: the daemon's own work keeps a core on a small machine. */
export const DEFAULT_SANDBOX_CONCURRENCY = 2;
/**
 * The memory limit of background tasks: a build loads the whole document and re-writes every page, up to a few
 * times the document's size (50 MB at most). Previews take the same limit although they need far less, so that
 * builds and previews share the same warm children (pooled by heap size, childPool.ts) instead of each keeping
 * their own idle and paying their own starts.
 */
export const BACKGROUND_MEMORY_BYTES = 1536 * MB;
/**
 * Two background children: niced, they use what intake leaves, and a fax's build plus its receipt's preview is
 * more than one core can do for a queue draining at tens of faxes a second.
 */
const DEFAULT_BACKGROUND_CONCURRENCY = 2;

/**
 * Inputs up to this size are worked on with V8 at full speed: even parsed whole, a document this size takes a
 * child well under the 150 MiB that a 50 MB PDF's check stays within with the heap kept small (bench/README.md).
 */
export const QUICK_HEAP_MAX_INPUT = 8 * MB;

/** Tasks that run native decoders on a stranger's file in the child: a fresh child each time (see above). */
const FRESH_CHILD_TASKS: ReadonlySet<SandboxTaskName> = new Set(['convertDocument', 'unwrapTnef']);

/**
 * `memory` and `time`: killed at a limit. `crash`: the task threw (a bug, or an input no check foresaw), or the
 * child died without answering (`lost: true`: killed from outside, or it could not start), or a niced child
 * waited for the CPU past the wall-clock backstop (`lost: true` too, taskWatchdog.ts): these say nothing about
 * the document, and the caller tries again later.
 */
export type SandboxOutcome<T> =
  { ok: true; value: T } | { ok: false; limit: 'memory' | 'time' | 'crash'; detail: string; lost?: boolean };

export interface SandboxRunOptions {
  limits?: Partial<SandboxLimits>;
  log?: Logger;
  /**
   * `later` for work nobody is waiting on (a queued fax's transmitted PDF), `soon` for background work a mail
   * waits for (a preview), served first: both on the background lane's own slots, in niced children; default
   * `first`.
   */
  priority?: SlotPriority;
  /**
   * The size of the file the task reads, when the caller knows it. Up to QUICK_HEAP_MAX_INPUT the child runs with
   * V8's compilers at full speed; larger or unknown, with its heap kept small (leanHeap.ts `optimizeForSize`).
   */
  inputBytes?: number;
  /**
   * The caller gives up: a task still waiting for a slot withdraws, a running one's child is killed; either way
   * `run` rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface DocumentSandbox {
  run<N extends SandboxTaskName>(
    task: N,
    input: SandboxTaskInput<N>,
    options?: SandboxRunOptions,
  ): Promise<SandboxOutcome<SandboxTaskOutput<N>>>;
  /** Ends the idle children now (they also end on their own when idle a while); running tasks go on. */
  closeIdle(): void;
}

export interface DocumentSandboxOptions {
  /** Slots for `first` tasks. */
  concurrency?: number;
  /** Slots for `later` tasks, never lent to `first` ones nor borrowed from them. */
  backgroundConcurrency?: number;
  limits?: Partial<SandboxLimits>;
}

export function makeDocumentSandbox(options: DocumentSandboxOptions = {}): DocumentSandbox {
  const defaults = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
  const acquire = makePrioritySlots({
    first: options.concurrency ?? DEFAULT_SANDBOX_CONCURRENCY,
    later: options.backgroundConcurrency ?? DEFAULT_BACKGROUND_CONCURRENCY,
  });
  const pool = makeChildPool();
  return {
    async run(task, input, runOptions = {}) {
      const { priority = 'first', signal, log } = runOptions;
      const release = await acquire(priority, signal);
      try {
        // A slot granted in the very turn the caller gave up: nothing started yet.
        signal?.throwIfAborted();
        const limits = { ...defaults, ...runOptions.limits };
        const reusable = !FRESH_CHILD_TASKS.has(task);
        const heapMb = heapMbFor(limits);
        const nice = priority === 'first' ? 0 : BACKGROUND_NICE;
        let child = pool.take(heapMb, nice, reusable);
        const { inputBytes } = runOptions;
        // Unknown, or not a number: lean.
        const leanHeap = !(inputBytes !== undefined && inputBytes <= QUICK_HEAP_MAX_INPUT);
        const request: SandboxRequest = { task, input, leanHeap };
        let { outcome, killedFor } = await runTask(child, request, limits, log, signal);
        if (!outcome.ok && outcome.lost && !killedFor && child.tasks > 0) {
          // A reused child that died without a word (killed from outside while idle or at the start of the
          // task) says nothing about this document: once more, in a new child. Not after the backstop: the
          // machine is as busy as it was a moment ago.
          await pool.giveBack(child, false);
          child = pool.take(heapMb, nice, false);
          ({ outcome, killedFor } = await runTask(child, request, limits, log, signal));
        }
        await pool.giveBack(child, outcome.ok && reusable);
        if (killedFor === 'aborted') throw signal?.reason;
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
 * The process's one sandbox. Shared on purpose: the concurrency bounds are what keep many documents from adding
 * up, and they only hold if SMTP intake, received faxes and the built-in simulator all wait on the same slots.
 */
export function sharedDocumentSandbox(): DocumentSandbox {
  shared ??= makeDocumentSandbox();
  return shared;
}

/** The heap gets three quarters of the memory limit: the rest is for file bytes and inflated data. */
function heapMbFor(limits: SandboxLimits): number {
  return Math.max(32, Math.floor((limits.memoryBytes / MB) * 0.75));
}

/** The task's outcome, and why the watchdog killed its child (null when it did not). */
interface TaskEnd {
  outcome: SandboxOutcome<unknown>;
  killedFor: KillReason | null;
}

function runTask(
  child: SandboxChild,
  request: SandboxRequest,
  limits: SandboxLimits,
  log: Logger | undefined,
  signal: AbortSignal | undefined,
): Promise<TaskEnd> {
  return new Promise((resolve) => {
    let settled = false;
    const watchdog = startTaskWatchdog(
      {
        readUsage: () => readUsage(child.process),
        isAlive: () => isAlive(child),
        kill: () => child.process.kill('SIGKILL'),
      },
      limits,
      child.nice !== 0 && CPU_CLOCK_READABLE,
    );
    const giveUp = (): void => watchdog.giveUp();
    signal?.addEventListener('abort', giveUp, { once: true });
    if (signal?.aborted) giveUp();
    const finish = (outcome: SandboxOutcome<unknown>): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', giveUp);
      watchdog.stop();
      const { peakRss } = watchdog;
      log?.debug(
        { task: request.task, peakRss, tasksInChild: child.tasks + 1 },
        'document sandbox task ended',
      );
      resolve({ outcome, killedFor: watchdog.killedFor });
    };
    child.onReply = (reply) => {
      relayLog(log, reply.log ?? []);
      if (reply.ok) finish({ ok: true, value: reply.value });
      else finish({ ok: false, limit: 'crash', detail: reply.error });
    };
    child.onClose = (code, signal) => {
      log?.debug(
        { task: request.task, code, signal, stderr: child.stderr || undefined },
        'document sandbox child ended',
      );
      const { killedFor, detail } = watchdog;
      if (killedFor === 'backstop' || killedFor === 'aborted') {
        return finish({ ok: false, limit: 'crash', detail, lost: true });
      }
      if (killedFor) return finish({ ok: false, limit: killedFor, detail });
      // V8 aborts the process when the heap limit is reached; that is the memory limit doing its job.
      if (V8_HEAP_LIMIT_MESSAGE.test(child.stderr)) {
        return finish({ ok: false, limit: 'memory', detail: `heap over ${child.heapMb} MB` });
      }
      finish({ ok: false, limit: 'crash', detail: `exited with ${signal ?? `code ${code}`}`, lost: true });
    };
    if (!isAlive(child)) return child.onClose(child.process.exitCode, child.process.signalCode);
    child.process.send(request, (error) => {
      if (error) child.process.kill('SIGKILL');
    });
  });
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
