import type { Writable } from 'node:stream';
import { createInflate } from 'node:zlib';

/**
 * How many bytes a stream's Flate filter chain expands to, counted without keeping them: each layer is inflated
 * as a stream and the output is only counted, so a 4 KB file that expands to gigabytes costs a few MB of memory
 * and stops as soon as it passes `budget`. Two layers (`/Filter [/FlateDecode /FlateDecode]`) compress about a
 * million to one, which is why every layer is undone, not only the first.
 */
export type InflatedSize = { bytes: number; overBudget: boolean };

/** Chunks handed to zlib; small, so the count stops soon after the budget is crossed. */
const CHUNK = 64 * 1024;

/** `data` is the stream's bytes whole, or read in chunks (a file range): fed to zlib as zlib takes them. */
export function countInflatedBytes(
  data: Buffer | AsyncIterable<Buffer>,
  layers: number,
  budget: number,
): Promise<InflatedSize> {
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const inflaters = Array.from({ length: layers }, () => createInflate({ chunkSize: CHUNK }));
    const finish = (overBudget: boolean): void => {
      if (settled) return;
      settled = true;
      for (const inflater of inflaters) inflater.destroy();
      resolve({ bytes, overBudget });
    };
    for (const [index, inflater] of inflaters.entries()) {
      // Damaged or truncated data counts for what it produced before the damage: pdf-lib's own inflater
      // (pako) keeps that much too, and the reader will judge the rest.
      inflater.on('error', () => finish(false));
      const next = inflaters[index + 1];
      if (next) inflater.pipe(next);
    }
    const last = inflaters[inflaters.length - 1]!;
    last.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > budget) finish(true);
    });
    last.on('end', () => finish(false));
    const first = inflaters[0]!;
    if (Buffer.isBuffer(data)) return void first.end(data);
    void feed(first, data, () => settled).catch(() => finish(false));
  });
}

/**
 * Writes the chunks one at a time, each only once zlib has taken the last (its write callback), so the source may
 * reuse one buffer for all of them; stops reading once the count is settled (the inflater destroyed).
 */
async function feed(
  inflater: Writable,
  chunks: AsyncIterable<Buffer>,
  settled: () => boolean,
): Promise<void> {
  for await (const chunk of chunks) {
    if (settled()) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        inflater.off('close', done);
        resolve();
      };
      inflater.once('close', done);
      inflater.write(chunk, done);
    });
  }
  if (!settled()) inflater.end();
}
