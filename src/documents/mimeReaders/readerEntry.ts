import { PassThrough } from 'node:stream';

import { FaxError } from '../../errors.js';
import { extractDocuments } from '../extractDocuments.js';
import type { ExtractLimits } from '../extractLimits.js';
import { liftBase64Bodies } from '../liftBase64Bodies.js';
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
 * (liftBase64Bodies.ts); a larger one is read as it streams in. Held messages together take at most
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
  /** The parser's input, once reading has begun. */
  source: PassThrough | null;
  /** Bytes received and not yet acknowledged, waiting for the parser to drain. */
  waiting: number;
}

const tasks = new Map<number, Task>();
let heldTotal = 0;

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
  tasks.set(id, { workDir, limits, held: [], heldBytes: 0, source: null, waiting: 0 });
}

/**
 * Starts the parser on what was held: with its lifted bodies when the message is whole (`whole`), else as the
 * beginning of a stream the rest of the message follows into.
 */
function beginReading(id: number, task: Task, whole: boolean): PassThrough {
  const held = task.held ?? [];
  heldTotal -= task.heldBytes;
  task.held = null;
  task.heldBytes = 0;
  const source = new PassThrough({ highWaterMark: PARSER_BUFFER });
  task.source = source;
  // extractDocuments hears the stream's errors while it reads; this one keeps a late one from ending the process.
  source.on('error', () => undefined);
  const lifted = whole ? liftBase64Bodies(Buffer.concat(held)) : null;
  // A cut destroys the source, which stops the parse at every level (extractDocuments hears its input's end).
  extractDocuments(source, task.workDir, task.limits, undefined, lifted?.bodies).then(
    (found) => settle(id, { type: 'done', task: id, message: found }),
    (error: unknown) => settle(id, { type: 'failed', task: id, error: describe(error) }),
  );
  if (lifted) source.end(lifted.message);
  else {
    // Already acknowledged: held chunks never wait on the parser's buffer.
    for (const chunk of held) source.write(chunk);
    if (whole) source.end();
  }
  return source;
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
    beginReading(id, task, false);
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
  if (task?.held) beginReading(id, task, true);
  else if (task?.source && !task.source.destroyed) task.source.end();
}

function cut(id: number, reason: string): void {
  const task = tasks.get(id);
  if (!task) return;
  // A held message is dropped unread; the parser's failure on the cut input is the answer either way.
  const source = task.source ?? beginReading(id, task, false);
  source.destroy(new Error(reason));
}

function settle(id: number, answer: FromMimeReader): void {
  const task = tasks.get(id);
  tasks.delete(id);
  if (task?.held) heldTotal -= task.heldBytes;
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
