import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { MB, SECOND } from '../../lib/units.js';
import type { Logger } from '../../log.js';
import type { SandboxReply, SandboxTaskInput, SandboxTaskName, SandboxTaskOutput } from './sandboxTasks.js';

/**
 * Runs document work (parsing and converting files strangers sent) in a child process that can be killed and is
 * capped, so no document can freeze or bloat the daemon: a 4 KB PDF can expand to gigabytes, and a synchronous
 * parse cannot be interrupted from inside its own process. Each task gets a fresh `node` child (a clean heap, and
 * nothing left behind by the previous document) with:
 * - a V8 heap limit (`--max-old-space-size`), and a watchdog on its resident memory, which also counts the
 *   buffers outside the heap where inflated data lives; past `memoryBytes` it is killed;
 * - a wall-clock limit, past which it is killed (SIGKILL: a busy parser never sees a gentler signal);
 * - a shared bound on how many children run at once, so a burst of documents queues instead of multiplying
 *   the memory the limits allow.
 * Files go in and out by path; only small JSON messages cross the IPC channel. Tasks are listed in sandboxTasks.ts.
 */
export interface SandboxLimits {
  timeMs: number;
  /** Resident memory of the child (heap, buffers, code). */
  memoryBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { timeMs: 60 * SECOND, memoryBytes: 768 * MB };
/** Two children at most by default: the daemon's own work keeps a core on a small machine. */
export const DEFAULT_SANDBOX_CONCURRENCY = 2;

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
}

export interface DocumentSandboxOptions {
  concurrency?: number;
  limits?: Partial<SandboxLimits>;
}

export function makeDocumentSandbox(options: DocumentSandboxOptions = {}): DocumentSandbox {
  const defaults = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
  const acquire = makeSlots(options.concurrency ?? DEFAULT_SANDBOX_CONCURRENCY);
  return {
    async run(task, input, runOptions = {}) {
      const release = await acquire();
      try {
        const outcome = await runChild(task, input, { ...defaults, ...runOptions.limits }, runOptions.log);
        return outcome as SandboxOutcome<SandboxTaskOutput<typeof task>>;
      } finally {
        release();
      }
    },
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

function runChild(
  task: string,
  input: unknown,
  limits: SandboxLimits,
  log: Logger | undefined,
): Promise<SandboxOutcome<unknown>> {
  // The heap gets three quarters: the rest is for the file's bytes and inflated data, outside the heap.
  const heapMb = Math.max(32, Math.floor((limits.memoryBytes / MB) * 0.75));
  const child = fork(childEntry(), [], {
    // Only our flags: a test runner's or debugger's would change how the child behaves.
    execArgv: [`--max-old-space-size=${heapMb}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'json',
  });
  return new Promise((resolve, reject) => {
    let reply: SandboxReply | null = null;
    let killedFor: 'memory' | 'time' | null = null;
    let peakRss = 0;
    let stderr = '';
    const kill = (reason: 'memory' | 'time'): void => {
      killedFor ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('time'), limits.timeMs);
    // The next look is scheduled only once the last read came back: never a pile of timers on a busy loop.
    let watch: NodeJS.Timeout | undefined;
    const look = (): void => {
      void readRss(child).then((rss) => {
        peakRss = Math.max(peakRss, rss);
        if (rss > limits.memoryBytes) kill('memory');
        if (child.exitCode === null && child.signalCode === null) watch = setTimeout(look, WATCH_INTERVAL_MS);
      });
    };
    look();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR) stderr += text.slice(0, MAX_STDERR - stderr.length);
    });
    // Answered as soon as the reply arrives, not when the child has exited and its pipes closed: on a busy
    // event loop each of those is another turn. The child has nothing left to do, so it goes at once.
    child.on('message', (message: SandboxReply) => {
      reply ??= message;
      clearTimeout(timer);
      relayLog(log, message.log ?? []);
      if (message.ok) resolve({ ok: true, value: message.value });
      else resolve({ ok: false, limit: 'crash', detail: message.error });
      child.kill('SIGKILL');
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      clearTimeout(watch);
      child.kill('SIGKILL');
      reject(new Error(`the document sandbox could not start: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watch);
      log?.debug(
        { task, peakRss, code, signal, stderr: stderr || undefined },
        'document sandbox child ended',
      );
      if (reply) return;
      if (killedFor === 'memory') {
        return resolve({
          ok: false,
          limit: 'memory',
          detail: `over ${Math.round(limits.memoryBytes / MB)} MB`,
        });
      }
      if (killedFor === 'time') {
        return resolve({ ok: false, limit: 'time', detail: `over ${Math.round(limits.timeMs / SECOND)} s` });
      }
      // V8 aborts the process when the heap limit is reached; that is the memory limit doing its job.
      if (/heap limit|Allocation failed|out of memory/i.test(stderr)) {
        return resolve({ ok: false, limit: 'memory', detail: `heap over ${heapMb} MB` });
      }
      resolve({ ok: false, limit: 'crash', detail: `exited with ${signal ?? `code ${code}`}` });
    });
    child.send({ task, input });
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
