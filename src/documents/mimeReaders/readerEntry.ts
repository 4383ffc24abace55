import { PassThrough } from 'node:stream';

import { FaxError } from '../../errors.js';
import { growHeapFreely } from '../../lib/leanHeap.js';
import { extractDocuments } from '../extractDocuments.js';
import type { ExtractLimits } from '../extractLimits.js';
import { readWholeMessage } from '../readWholeMessage.js';
import type { FromMimeReader, ReaderError, ToMimeReader } from './protocol.js';

/**
 * A MIME reader: a child process that reads the messages the daemon streams to it with extractDocuments, the same
 * code that would run in the daemon, and answers with what it found. Started by mimeReaders.ts, which says why.
 */
const send = (message: FromMimeReader): void => {
  process.send?.(message);
};
if (!process.send)
  throw new Error('readerEntry.js runs as a child process of the daemon, with an IPC channel');
// The daemon gone (killed, crashed): nothing is left to answer to.
process.on('disconnect', () => process.exit(0));

/** What the parser has not taken yet is held here; beyond it, a chunk is acknowledged only when drained. */
const PARSER_BUFFER = 256 * 1024;

/**
 * A message up to this size is held whole until its end, then read with its large base64 bodies decoded at once
 * (readWholeMessage.ts); a larger one is read as it streams in. Held messages together take at most
 * HELD_BUDGET of a reader's memory: beyond it, a message streams whatever its size.
 */
const WHOLE_MESSAGE_MAX = 4 * 1024 * 1024;
const HELD_BUDGET = 32 * 1024 * 1024;

interface Task {
  workDir: string;
  limits: Partial<ExtractLimits>;
  /** The message's chunks while it is held whole; null once it is being read. */
  held: Buffer[] | null;
  heldBytes: number;
  /** The parser's input, once a message too large to hold is read as it streams in. */
  source: PassThrough | null;
  /** Stops the reading of a message held whole, once it has begun. */
  stop: AbortController | null;
  /** Bytes received and not yet acknowledged, waiting for the parser to drain. */
  waiting: number;
}

const tasks = new Map<number, Task>();
let heldTotal = 0;
/**
 * While no message is read as it streams in, the reader's messages are small (held whole, 4 MB at most) and its heap
 * may grow well past what is live before V8 collects it (leanHeap.ts, growHeapFreely); while a large one streams,
 * V8's own rule keeps the heap near what is live, as for the 50 MB message of bench/memory50mb.ts.
 */
growHeapFreely(true);

process.on('message', (message: ToMimeReader) => {
  switch (message.type) {
    case 'start':
      return start(message.task, message.workDir, message.limits);
    case 'chunk':
      return take(message.task, message.bytes);
    case 'end':
      return finish(message.task);
    case 'cut':
      return cut(message.task, message.reason);
    case 'ping':
      return send({ type: 'pong' });
  }
});

function start(id: number, workDir: string, limits: Partial<ExtractLimits>): void {
  tasks.set(id, { workDir, limits, held: [], heldBytes: 0, source: null, stop: null, waiting: 0 });
}

/** Takes the held chunks out of the task (and out of the reader's budget). */
function release(task: Task): Buffer[] {
  const held = task.held ?? [];
  heldTotal -= task.heldBytes;
  task.held = null;
  task.heldBytes = 0;
  return held;
}

/** The message arrived whole while held: read it at once. */
function readHeld(id: number, task: Task): void {
  const raw = Buffer.concat(release(task));
  task.stop = new AbortController();
  readWholeMessage(raw, task.workDir, task.limits, task.stop.signal).then(
    (reading) => settle(id, { type: 'done', task: id, message: reading.message }),
    (error: unknown) => settle(id, { type: 'failed', task: id, error: describe(error) }),
  );
}

/** The message is too large to hold: the parser starts on what was held and reads the rest as it comes. */
function beginStreaming(id: number, task: Task): void {
  const held = release(task);
  const source = new PassThrough({ highWaterMark: PARSER_BUFFER });
  task.source = source;
  growHeapFreely(false);
  // extractDocuments hears the stream's errors while it reads; this one keeps a late one from ending the process.
  source.on('error', () => undefined);
  // A cut destroys the source, which stops the parse at every level (extractDocuments hears its input's end).
  extractDocuments(source, task.workDir, task.limits).then(
    (found) => settle(id, { type: 'done', task: id, message: found }),
    (error: unknown) => settle(id, { type: 'failed', task: id, error: describe(error) }),
  );
  // Already acknowledged: held chunks never wait on the parser's buffer.
  for (const chunk of held) source.write(chunk);
}

function take(id: number, bytes: Uint8Array): void {
  const task = tasks.get(id);
  const chunk = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (task?.held) {
    const fits =
      task.heldBytes + chunk.length <= WHOLE_MESSAGE_MAX && heldTotal + chunk.length <= HELD_BUDGET;
    if (fits) {
      task.held.push(chunk);
      task.heldBytes += chunk.length;
      heldTotal += chunk.length;
      return send({ type: 'taken', task: id, bytes: chunk.length });
    }
    beginStreaming(id, task);
  }
  // A task already answered (a refused message, read to its end by the daemon) only needs its bytes acknowledged.
  if (!task?.source || task.source.destroyed || task.source.writableEnded) {
    return send({ type: 'taken', task: id, bytes: chunk.length });
  }
  if (task.source.write(chunk)) return send({ type: 'taken', task: id, bytes: chunk.length });
  task.waiting += chunk.length;
  if (task.waiting === chunk.length) {
    task.source.once('drain', () => acknowledgeWaiting(id, task));
  }
}

function acknowledgeWaiting(id: number, task: Task): void {
  const bytes = task.waiting;
  task.waiting = 0;
  if (bytes > 0) send({ type: 'taken', task: id, bytes });
}

function finish(id: number): void {
  const task = tasks.get(id);
  if (task?.held) readHeld(id, task);
  else if (task?.source && !task.source.destroyed) task.source.end();
}

function cut(id: number, reason: string): void {
  const task = tasks.get(id);
  if (!task) return;
  const why = new Error(reason);
  // A held message is dropped unread.
  if (task.held) return settle(id, { type: 'failed', task: id, error: describe(why) });
  task.stop?.abort(why);
  task.source?.destroy(why);
}

function settle(id: number, answer: FromMimeReader): void {
  const task = tasks.get(id);
  tasks.delete(id);
  if (task) release(task);
  if (task?.source && ![...tasks.values()].some((other) => other.source)) growHeapFreely(true);
  // Bytes held for a parser that stopped are released, so the daemon's side never waits for a drain that won't come.
  if (task) acknowledgeWaiting(id, task);
  send(answer);
}

function describe(error: unknown): ReaderError {
  if (error instanceof FaxError) {
    return {
      message: error.message,
      faxCode: error.code,
      ...(error.smtpCode === undefined ? {} : { smtpCode: error.smtpCode }),
      ...(error.enhancedCode === undefined ? {} : { enhancedCode: error.enhancedCode }),
    };
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' && (error as NodeJS.ErrnoException).syscall ? { systemCode: code } : {}),
  };
}
