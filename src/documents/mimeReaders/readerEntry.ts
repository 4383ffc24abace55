import { PassThrough } from 'node:stream';

import { FaxError } from '../../errors.js';
import { extractDocuments } from '../extractDocuments.js';
import type { ExtractLimits } from '../extractLimits.js';
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

interface Task {
  source: PassThrough;
  /** Bytes received and not yet acknowledged, waiting for the parser to drain. */
  waiting: number;
}

const tasks = new Map<number, Task>();

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
  const task: Task = {
    source: new PassThrough({ highWaterMark: PARSER_BUFFER }),
    waiting: 0,
  };
  // extractDocuments hears the stream's errors while it reads; this one keeps a late one from ending the process.
  task.source.on('error', () => undefined);
  tasks.set(id, task);
  // A cut destroys the source, which stops the parse at every level (extractDocuments hears its input's end).
  extractDocuments(task.source, workDir, limits).then(
    (found) => settle(id, { type: 'done', task: id, message: found }),
    (error: unknown) => settle(id, { type: 'failed', task: id, error: describe(error) }),
  );
}

function take(id: number, bytes: Uint8Array): void {
  const task = tasks.get(id);
  // A task already answered (a refused message, read to its end by the daemon) only needs its bytes acknowledged.
  if (!task || task.source.destroyed || task.source.writableEnded) {
    return send({ type: 'taken', task: id, bytes: bytes.byteLength });
  }
  const chunk = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
  const source = tasks.get(id)?.source;
  if (source && !source.destroyed) source.end();
}

function cut(id: number, reason: string): void {
  tasks.get(id)?.source.destroy(new Error(reason));
}

function settle(id: number, answer: FromMimeReader): void {
  const task = tasks.get(id);
  tasks.delete(id);
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
