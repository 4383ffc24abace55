import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';

import { FaxError } from '../../errors.js';
import { compiledEntry } from '../../lib/compiledEntry.js';
import { collectYoungGeneration } from '../../lib/leanHeap.js';
import { MB, SECOND } from '../../lib/units.js';
import type { Logger } from '../../log.js';
import type { ExtractedMessage } from '../extractDocuments.js';
import type { ExtractLimits } from '../extractLimits.js';
import { forkWithHeapLimit, V8_HEAP_LIMIT_MESSAGE } from '../sandbox/childPool.js';
import type { FromMimeReader, ReaderError, ToMimeReader } from './protocol.js';

/**
 * Incoming mail is read (MIME split, base64 decoded, parts sniffed, hashed and written to the work folder) by
 * child processes, the MIME readers, not in the daemon (docs/architecture.md, "MIME readers"):
 *
 * - **Killable and capped.** A message is untrusted input. In a process of its own, with a heap limit, a message
 *   that makes the parser loop or swell stops that reader, never the daemon: its SMTP sessions, webhooks and jobs
 *   go on. A reader that stops answering for `stallMs` is killed.
 * - **Both cores.** Reading a message was a third of the daemon thread's work per accepted message, and that
 *   thread, busy all the time under a burst, was what limited how fast mail was accepted (bench/README.md).
 * - **Processes, not worker threads.** A worker thread did the same for speed, but its heap, its parser and the
 *   memory its thread's allocator kept all counted in the daemon's resident memory: ~20 MiB more with a 50 MB
 *   PDF, which took the daemon past 150 MiB on Node 24 (bench/memory50mb.ts).
 *
 * Readers start with the first message and stop after `idleMs` without one, so an idle daemon has none. Each
 * reader reads several messages at once, as the daemon did.
 *
 * **Read again alone.** When a reader ends under several messages (one made it run out of memory or stall, or the
 * kernel killed it), nobody can tell which message was at fault. Each message small enough to have been kept in the
 * daemon (KEEP_MAX) is read again in a reader of its own, one message at a time (`makeLoneLane`): the innocent ones
 * are answered as if nothing had happened, and the one at fault ends its lone reader too and gets its own 554.
 * Without this, a message that kills readers would have every message read beside it answered 451, again at each
 * of its server's retries, and never get the refusal its sender needs to hear.
 */
export interface MimeReadersOptions {
  /** Readers at most. */
  readers?: number;
  /** A reader that has not answered a ping for this long is killed, and its messages answered. */
  stallMs?: number;
  /** A reader with no message for this long is stopped. */
  idleMs?: number;
  /** The old generation's limit of each reader's heap, in MB. */
  heapMb?: number;
}

export interface MimeReaders {
  /**
   * extractDocuments (../extractDocuments.ts) in a reader: the same result, or the same errors by message and
   * FaxError code. A reader that ends under several messages has each read again alone where it can (above).
   * Rejects with a FaxError that is `retryable` when the message could not be read for a reason of the readers'
   * own (a reader that ended and could not read it again, the daemon stopping), and with a `bad_document` one when
   * this message alone was being read when its reader stalled or ran out of memory.
   */
  extract(
    input: Readable,
    workDir: string,
    limits: Partial<ExtractLimits>,
    signal: AbortSignal,
  ): Promise<ExtractedMessage>;
  /**
   * Stops every reader; messages being read, or waiting to be read again, are answered as for a lost reader (those
   * still arriving, when they end).
   */
  close(): Promise<void>;
}

const DEFAULTS: Required<MimeReadersOptions> = {
  readers: 2,
  stallMs: 30 * SECOND,
  // Starting a reader and its parser costs ~0.4 s of CPU, so a reader is kept between messages that come a few
  // seconds apart.
  idleMs: 30 * SECOND,
  // A reader holds a message of up to 4 MB whole until its end (32 MB of them at most, readerEntry.ts) and reads a
  // larger one as a stream, a few hundred KB at a time; with the top-level headers (up to their 1 MB limit) and the
  // decoded bodies of the message being read, the cap leaves room for many messages at once.
  heapMb: 256,
};
/** The end of a reader's stderr that is kept, to tell V8's fatal "heap limit" from any other end. */
const MAX_STDERR = 16 * 1024;

/** Bytes sent to a reader and not yet taken by its parser: past HIGH the message's stream pauses until LOW. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/**
 * The daemon's thread now only passes a message's bytes on, allocating little of its own, so V8 seldom collects
 * it, and the socket's dead Buffers piled up: a 50 MB message took the daemon from 101 to 140 MiB
 * (bench/memory50mb.ts). A young collection after every YOUNG_COLLECTION_EVERY bytes passed on frees them.
 */
const YOUNG_COLLECTION_EVERY = 4 * MB;
let passedSinceCollection = 0;

/**
 * A message of up to KEEP_MAX is kept in the daemon until it is answered, besides being passed on, so that it can be
 * read again alone (above); the readers hold messages of that size whole anyway (readerEntry.ts). Kept messages
 * together take at most KEEP_BUDGET of the daemon's memory: beyond it, or for a larger message, a reader's end costs
 * the message a 451 as before.
 */
const KEEP_MAX = 4 * MB;
const KEEP_BUDGET = 32 * MB;
let keptTotal = 0;

/** Reads a message kept whole once more, in a reader with no other message. */
type ReadAlone = (
  raw: Buffer,
  workDir: string,
  limits: Partial<ExtractLimits>,
  signal: AbortSignal,
) => Promise<ExtractedMessage>;

export function startMimeReaders(options: MimeReadersOptions, log: Logger): MimeReaders {
  const settings = { ...DEFAULTS, ...options };
  const readers = new Set<MimeReader>();
  let nextTask = 1;
  let closed = false;
  const lone = makeLoneLane(settings, log);

  const pick = (): MimeReader => {
    let best: MimeReader | undefined;
    for (const reader of readers) {
      if (reader.usable() && (!best || reader.load() < best.load())) best = reader;
    }
    if (best && (best.load() === 0 || readers.size >= settings.readers)) return best;
    const started = new MimeReader(settings, log, () => readers.delete(started), lone.read);
    readers.add(started);
    return started;
  };

  return {
    extract(input, workDir, limits, signal) {
      const refuse = (why: string): Promise<never> => {
        // The caller reads the message through to its end before answering; nothing else would.
        input.resume();
        return Promise.reject(readerLost(why));
      };
      if (closed) return refuse('the daemon is stopping');
      try {
        return pick().run(nextTask++, input, workDir, limits, signal);
      } catch (error) {
        // A reader that cannot be started (its script missing, no memory for a process) is our fault: 451.
        return refuse(error instanceof Error ? error.message : String(error));
      }
    },
    async close() {
      closed = true;
      // The lone lane first: the messages of the readers stopped here are then refused by it (451), not read again.
      await Promise.all([
        lone.close(),
        ...[...readers].map((reader) => reader.stop('the daemon is stopping')),
      ]);
    },
  };
}

/**
 * Messages read again alone, one after another, each in a reader that reads nothing else (a new one when the last
 * one ended under its message). One at a time: the message at fault may well be among them, and a reader of each
 * would start as many processes at once.
 */
function makeLoneLane(
  settings: Required<MimeReadersOptions>,
  log: Logger,
): {
  read: ReadAlone;
  close(): Promise<void>;
} {
  let reader: MimeReader | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let nextTask = 1;
  let closed = false;

  const readOne: ReadAlone = async (raw, workDir, limits, signal) => {
    if (closed) throw readerLost('the daemon is stopping');
    // What the first reader wrote of this message's parts before it ended; the second writes them anew.
    await rm(workDir, { recursive: true, force: true }).catch((error: unknown) => {
      throw workFolderUnusable((error as Error).message);
    });
    // Stopped while the folder was emptied: no reader may start after close() has returned.
    if (closed) throw readerLost('the daemon is stopping');
    if (!reader?.usable()) {
      try {
        const started: MimeReader = new MimeReader(
          settings,
          log,
          () => {
            if (reader === started) reader = null;
          },
          null,
        );
        reader = started;
      } catch (error) {
        // As in extract: a reader that cannot be started (no memory for a process) is our fault, not the message's.
        throw readerLost(error instanceof Error ? error.message : String(error));
      }
    }
    return reader.run(nextTask++, Readable.from([raw]), workDir, limits, signal);
  };

  return {
    read(raw, workDir, limits, signal) {
      const turn = queue.then(() => readOne(raw, workDir, limits, signal));
      queue = turn.catch(() => undefined);
      return turn;
    },
    async close() {
      closed = true;
      await reader?.stop('the daemon is stopping');
    },
  };
}

interface Reading {
  resolve(message: ExtractedMessage): void;
  reject(error: Error): void;
  taken(bytes: number): void;
  /**
   * The reader ended under this message and others: reads it again alone if it was kept (it then answers the
   * message itself), or says false.
   */
  rescue(): boolean;
}

class MimeReader {
  private readonly child: ChildProcess;
  private readonly readings = new Map<number, Reading>();
  private readonly exited: Promise<void>;
  private stderr = '';
  /** When the reader last said anything, on the monotonic clock (a wall-clock step must not look like a stall). */
  private lastAnswer = performance.now();
  /** Exited, or being stopped by us: given no more messages, and no idle timer. */
  private ended = false;
  private exitSignal: NodeJS.Signals | null = null;
  private watch: NodeJS.Timeout | null = null;
  private idle: NodeJS.Timeout | null = null;
  /** Why the reader is being stopped by us, for the messages it was reading. */
  private stopping: ((alone: boolean) => FaxError) | null = null;

  constructor(
    private readonly settings: Required<MimeReadersOptions>,
    private readonly log: Logger,
    /** Takes the reader out of the pool: called as soon as it is being stopped, so no new message comes to it. */
    private readonly onGone: () => void,
    /** Where its messages are read again when it ends under several; null for a reader that reads one at a time. */
    private readonly readAlone: ReadAlone | null,
  ) {
    this.child = forkWithHeapLimit(
      compiledEntry(import.meta.url, 'readerEntry.js'),
      settings.heapMb,
      'advanced',
    );
    this.child.stderr?.on('data', (text: string) => {
      // V8's fatal message comes last: the tail is what tells.
      this.stderr = (this.stderr + text).slice(-MAX_STDERR);
    });
    this.child.on('message', (message: FromMimeReader) => this.hear(message));
    // Out of the pool as soon as it has exited; its messages are answered at 'close', once its stderr is read.
    this.child.once('exit', (_code, signal) => {
      this.ended = true;
      this.exitSignal = signal;
      this.onGone();
    });
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
    void this.exited.then(() => this.gone());
  }

  load(): number {
    return this.readings.size;
  }

  /** Whether a new message may be given to it. */
  usable(): boolean {
    return !this.ended && this.child.connected;
  }

  run(
    task: number,
    input: Readable,
    workDir: string,
    limits: Partial<ExtractLimits>,
    signal: AbortSignal,
  ): Promise<ExtractedMessage> {
    this.watchWhileBusy();
    return new Promise<ExtractedMessage>((resolve, reject) => {
      let inFlight = 0;
      let paused = false;
      /** The message's bytes so far, while it may be read again alone; null once it may not. */
      let kept: Buffer[] | null = this.readAlone ? [] : null;
      let keptBytes = 0;
      const dropKept = (): void => {
        keptTotal -= keptBytes;
        keptBytes = 0;
        kept = null;
      };
      const keep = (chunk: Buffer): void => {
        if (!kept) return;
        if (keptBytes + chunk.length > KEEP_MAX || keptTotal + chunk.length > KEEP_BUDGET) return dropKept();
        kept.push(chunk);
        keptBytes += chunk.length;
        keptTotal += chunk.length;
      };
      /** Set when this reader ended under the message: it is being kept whole, then read again alone. */
      let rescued = false;
      const readAgain = (): void => {
        const raw = Buffer.concat(kept ?? []);
        // Still counted against KEEP_BUDGET while it waits in the lone lane: released when it is answered (detach).
        kept = [raw];
        this.readAlone!(raw, workDir, limits, signal).then(
          (message) => reading.resolve(message),
          (error: unknown) => reading.reject(error instanceof Error ? error : new Error(String(error))),
        );
      };
      const post = (message: ToMimeReader): void => {
        if (this.child.connected) this.child.send(message);
      };
      const onData = (chunk: Buffer): void => {
        keep(chunk);
        if (rescued) {
          if (!kept) reading.reject(readerLost('it ended while the message was arriving'));
          return;
        }
        inFlight += chunk.length;
        post({ type: 'chunk', task, bytes: chunk });
        passedSinceCollection += chunk.length;
        if (passedSinceCollection >= YOUNG_COLLECTION_EVERY) {
          passedSinceCollection = 0;
          collectYoungGeneration();
        }
        if (inFlight > HIGH_WATER && !paused) {
          paused = true;
          input.pause();
        }
      };
      let cutSent = false;
      const cut = (reason: string): void => {
        if (cutSent) return;
        cutSent = true;
        // Not handed to a lone reader yet: nobody else would answer it. Once handed, the signal reaches that one.
        if (rescued && !input.readableEnded) return reading.reject(new Error(reason));
        post({ type: 'cut', task, reason });
      };
      const onEnd = (): void => {
        if (rescued) readAgain();
        else post({ type: 'end', task });
      };
      const onError = (error: Error): void => cut(error.message);
      const onClose = (): void => {
        if (!input.readableEnded) cut(input.errored?.message ?? 'the message did not arrive in full');
      };
      const onAbort = (): void =>
        cut(signal.reason instanceof Error ? signal.reason.message : 'the message did not arrive in full');
      const detach = (): void => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('error', onError);
        input.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        dropKept();
        this.readings.delete(task);
        if (this.readings.size === 0 && !this.ended) this.idleSoon();
        // Whatever was answered, the rest of the message is read through, as the caller expects.
        if (!input.readableEnded) input.resume();
      };
      let answered = false;
      const reading: Reading = {
        resolve: (message) => {
          if (answered) return;
          answered = true;
          detach();
          resolve(message);
        },
        reject: (error) => {
          if (answered) return;
          answered = true;
          detach();
          reject(error);
        },
        taken: (bytes) => {
          inFlight -= bytes;
          if (paused && inFlight <= LOW_WATER) {
            paused = false;
            input.resume();
          }
        },
        rescue: () => {
          if (!kept || cutSent) return false;
          rescued = true;
          // No acknowledgement will come from this reader: the rest arrives at the pace of the daemon's memory.
          if (paused) {
            paused = false;
            input.resume();
          }
          if (input.readableEnded) readAgain();
          return true;
        },
      };
      this.readings.set(task, reading);
      post({ type: 'start', task, workDir, limits });
      input.on('error', onError);
      input.on('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
      else if (input.destroyed) onClose();
      input.on('end', onEnd);
      input.on('data', onData);
    });
  }

  /**
   * Kills the reader; once it has exited, the messages it was reading are read again alone when there were several
   * (the lone lane refuses them while the daemon stops), or rejected with `blame`'s error.
   */
  stop(why: string, blame: (alone: boolean) => FaxError = () => readerLost(why)): Promise<void> {
    this.stopping ??= blame;
    this.ended = true;
    this.onGone();
    this.clearTimers();
    // Nothing of a reader is worth a graceful end: its work folder belongs to the SMTP transaction, which removes it.
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private gone(): void {
    this.ended = true;
    this.onGone();
    this.clearTimers();
    const alone = this.readings.size === 1;
    // V8 ends a process whose heap is full with a fatal message and abort(): SIGABRT, whatever the message says.
    const outOfMemory = this.exitSignal === 'SIGABRT' || V8_HEAP_LIMIT_MESSAGE.test(this.stderr);
    const error = (): FaxError =>
      this.stopping?.(alone) ??
      (outOfMemory && alone
        ? unreadable(`reading it took more memory than a reader has (${this.settings.heapMb} MB)`)
        : readerLost(outOfMemory ? 'it ran out of memory' : 'it ended unexpectedly'));
    // Several messages and nobody knows which one ended it (a stall, memory, a crash): each is read again alone.
    let readAgain = 0;
    for (const reading of [...this.readings.values()]) {
      if (!alone && reading.rescue()) readAgain += 1;
      else reading.reject(error());
    }
    if (readAgain > 0) {
      this.log.warn(
        { messages: this.readings.size, readAgain, signal: this.exitSignal, outOfMemory },
        'a MIME reader ended under several messages; each that was kept is handed on to be read again alone',
      );
    }
    this.readings.clear();
  }

  private hear(message: FromMimeReader): void {
    this.lastAnswer = performance.now();
    if (message.type === 'pong') return;
    const reading = this.readings.get(message.task);
    if (!reading) return;
    if (message.type === 'taken') reading.taken(message.bytes);
    else if (message.type === 'done') reading.resolve(message.message);
    else reading.reject(rebuild(message.error));
  }

  /** Pings while messages are being read; a reader that stays silent for `stallMs` is killed. */
  private watchWhileBusy(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (this.watch) return;
    this.lastAnswer = performance.now();
    const every = Math.max(10, Math.floor(this.settings.stallMs / 4));
    const silent = (): boolean => performance.now() - this.lastAnswer > this.settings.stallMs;
    this.watch = setInterval(() => {
      if (silent()) {
        // After a pause of the daemon's own thread, timers run before the answers waiting on the channel are read:
        // those are read first (setImmediate runs after I/O), so only the reader's silence counts.
        setImmediate(() => {
          if (!silent() || this.ended) return;
          const seconds = Math.round(this.settings.stallMs / SECOND);
          void this.stop(`another message kept the reader from answering for ${seconds} s`, (alone) =>
            alone
              ? unreadable(`reading it took more than ${seconds} s`)
              : readerLost(`another message kept the reader from answering for ${seconds} s`),
          );
        });
        return;
      }
      if (this.child.connected) this.child.send({ type: 'ping' } satisfies ToMimeReader);
    }, every);
    this.watch.unref();
  }

  private idleSoon(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.readings.size === 0) void this.stop('idle');
    }, this.settings.idleMs);
    this.idle.unref();
  }

  private clearTimers(): void {
    if (this.watch) clearInterval(this.watch);
    if (this.idle) clearTimeout(this.idle);
    this.watch = null;
    this.idle = null;
  }
}

function rebuild(error: ReaderError): Error {
  if (error.systemCode) return workFolderUnusable(error.message);
  if (!error.faxCode) return new Error(error.message);
  return new FaxError(error.faxCode as FaxError['code'], error.message, {
    ...(error.smtpCode === undefined ? {} : { smtpCode: error.smtpCode }),
    ...(error.enhancedCode === undefined ? {} : { enhancedCode: error.enhancedCode }),
  });
}

/** The work folder could not be written or emptied (disk full, too many open files): storage's fault (451). */
function workFolderUnusable(why: string): FaxError {
  return new FaxError('storage_unavailable', why, { retryable: true, smtpCode: 451, enhancedCode: '4.3.0' });
}

/** Not this message's fault: the sender's server should send it again later (451). */
function readerLost(why: string): FaxError {
  return new FaxError('internal', `the message reader stopped: ${why}`, {
    retryable: true,
    smtpCode: 451,
    enhancedCode: '4.3.0',
  });
}

/** This message alone was being read when its reader stalled or ran out of memory (554). */
function unreadable(detail: string): FaxError {
  return new FaxError('bad_document', `the message could not be read: ${detail}`, {
    smtpCode: 554,
    enhancedCode: '5.6.0',
  });
}
