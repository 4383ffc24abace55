import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * A copy of the raw message on disk while it is parsed, for checks that need the exact bytes afterwards (DKIM
 * hashes the body as sent). The message flows through `stream`, which writes each chunk to the file on the way
 * to the parser, so nothing is held in memory; past `maxBytes` the copy stops (the message is refused as too
 * large anyway). A disk problem never breaks the SMTP transaction, it only makes `done()` reject.
 */
export interface Spool {
  /** Read this instead of the SMTP stream. */
  stream: Readable;
  path: string;
  /** Resolves when every byte of the message is on disk. */
  done(): Promise<void>;
  /** Deletes the file (idempotent). */
  remove(): Promise<void>;
}

/** Synchronous up to the first byte, so the SMTP handler can hand `stream` on at once (one mkdir, usually a no-op). */
export function spoolMessage(input: Readable, dir: string, label: string, maxBytes: number): Spool {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `spool-${label}-${randomBytes(6).toString('hex')}.eml`);
  const out = createWriteStream(file, { flags: 'wx' });
  let failure: Error | null = null;
  out.on('error', (error) => {
    failure ??= error;
  });
  const finished = new Promise<void>((resolve, reject) => {
    out.once('close', () => (failure ? reject(failure) : resolve()));
  });
  finished.catch(() => undefined);

  let written = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const room = maxBytes - written;
      if (failure || room <= 0) return callback(null, chunk);
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      written += part.length;
      // Waiting for the disk keeps memory flat when the network is faster than the disk.
      if (out.write(part)) return callback(null, chunk);
      const go = () => {
        out.off('drain', go);
        out.off('close', go);
        callback(null, chunk);
      };
      out.on('drain', go);
      out.on('close', go);
    },
    flush(callback: TransformCallback) {
      out.end();
      finished.then(
        () => callback(),
        () => callback(),
      );
    },
  });
  // What receive.ts reads of the SMTP stream besides its bytes.
  Object.defineProperty(tee, 'sizeExceeded', {
    get: () => (input as Readable & { sizeExceeded?: boolean }).sizeExceeded,
  });
  // pipe() forwards neither errors nor an early close. A client gone mid-DATA closes `tee` before its end, which
  // its reader learns from the close (src/smtp/messageCutOff.ts); without an error, so that no 'error' event can
  // reach a reader that has already let go.
  const cut = () => {
    if (!input.readableEnded) tee.destroy();
  };
  input.on('error', cut);
  input.once('close', cut);
  tee.once('close', () => {
    if (out.closed) return;
    failure ??= new Error('the message did not arrive in full');
    out.destroy();
  });
  input.pipe(tee);

  return {
    stream: tee,
    path: file,
    done: () => finished,
    async remove() {
      if (!out.closed) {
        failure ??= new Error('spool removed');
        out.destroy();
      }
      await finished.catch(() => undefined);
      await rm(file, { force: true });
    },
  };
}
