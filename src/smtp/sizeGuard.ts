import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes on until `maxBytes`, then swallows the rest while still reading it, so the SMTP transaction
 * can finish and be answered 552 without parsing or storing what is over the limit.
 */
export class SizeGuard extends Transform {
  bytes = 0;
  exceeded = false;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) this.exceeded = true;
    callback(null, this.exceeded ? undefined : chunk);
  }
}
