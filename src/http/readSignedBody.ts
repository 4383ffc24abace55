import type { IncomingMessage } from 'node:http';

export interface SignedBody {
  /** `prefix` then the body bytes, in one buffer: what the Ed25519 signature covers. */
  message: Buffer;
  /** The body bytes exactly as received (a view into `message`, not a copy). */
  body: Buffer;
}

export type BodyFailure = 'too_large' | 'unreadable';

/**
 * Reads a request body straight into its place behind `prefix`. Ed25519 needs the signed bytes in one piece,
 * so reading into that piece is the only copy made (raw-body's concatenation and then the signed message's made
 * two). The exact bytes, never a decoded string: a body with an invalid UTF-8 byte must still verify
 * (docs/dependencies.md, raw-body).
 *
 * `too_large`: the declared length, or the bytes of a chunked body, pass `limit` (docs/behaviour.md §5: 413);
 * the rest is not read. `unreadable`: the client went away or the body is shorter than it said.
 */
export function readSignedBody(
  req: IncomingMessage,
  prefix: string,
  limit: number,
): Promise<SignedBody | BodyFailure> {
  const declared = req.headers['content-length'];
  // Node's parser has already refused a malformed Content-Length with 400.
  const length = declared === undefined ? null : Number(declared);
  if (length !== null && length > limit) return Promise.resolve('too_large');
  const prefixBytes = Buffer.byteLength(prefix, 'latin1');

  return new Promise((resolve) => {
    // Known length: one buffer of the final size, filled as chunks come. Chunked: kept until the end.
    const message = length === null ? null : Buffer.allocUnsafe(prefixBytes + length);
    const chunks: Buffer[] = [];
    let received = 0;

    const finish = (outcome: SignedBody | BodyFailure): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onFailure);
      req.off('close', onFailure);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        req.pause();
        finish('too_large');
      } else if (message) {
        // Never more than declared: Node's parser ends the body at Content-Length.
        if (prefixBytes + received > message.length) finish('unreadable');
        else chunk.copy(message, prefixBytes + received - chunk.length);
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = (): void => {
      if (message) {
        if (received !== length) return finish('unreadable');
        message.write(prefix, 0, 'latin1');
        return finish({ message, body: message.subarray(prefixBytes) });
      }
      const whole = Buffer.allocUnsafe(prefixBytes + received);
      whole.write(prefix, 0, 'latin1');
      let offset = prefixBytes;
      for (const chunk of chunks) offset += chunk.copy(whole, offset);
      finish({ message: whole, body: whole.subarray(prefixBytes) });
    };
    // An aborted upload errors and closes; a close before the end is a body that never came whole.
    const onFailure = (): void => finish('unreadable');

    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onFailure);
    req.once('close', onFailure);
  });
}
