import { type FileHandle, open } from 'node:fs/promises';

/**
 * A PDF's bytes as the structure check reads them: a window at a time at any offset, never the whole file. A file
 * is read with positioned reads (a 50 MB attachment costs a few MB, not 50 MB, while it is checked); a Buffer a
 * caller already holds is read through views of it, without copies.
 */
export interface PdfBytes {
  readonly size: number;
  /**
   * Up to `length` bytes from `position`: fewer only at the end. With `into` (at least `length` long) a file is
   * read into that buffer, which its caller reuses window after window; the result is then a view of it.
   */
  read(position: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export function bufferBytes(bytes: Buffer): PdfBytes {
  return {
    size: bytes.length,
    read: (position, length) =>
      Promise.resolve(
        bytes.subarray(Math.min(position, bytes.length), Math.min(bytes.length, position + length)),
      ),
    close: () => Promise.resolve(),
  };
}

export async function openPdfBytes(path: string): Promise<PdfBytes> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return fileBytes(handle, size);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function fileBytes(handle: FileHandle, size: number): PdfBytes {
  return {
    size,
    async read(position, length, into) {
      const wanted = Math.max(0, Math.min(length, size - position));
      const target = into && into.length >= wanted ? into : Buffer.allocUnsafe(wanted);
      let filled = 0;
      while (filled < wanted) {
        const { bytesRead } = await handle.read(target, filled, wanted - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return target.subarray(0, filled);
    },
    close: () => handle.close(),
  };
}

/** Chunks handed to a reader of a long range (a stream's data): small, so memory stays flat whatever the length. */
const RANGE_CHUNK = 256 * 1024;

/**
 * The bytes from `start` to `end` in chunks, all read into the same buffer: the consumer must be done with a chunk
 * before it asks for the next (a 50 MB stream then costs 256 KB, not 50 MB of garbage for the child's allocator).
 */
export async function* readRange(source: PdfBytes, start: number, end: number): AsyncGenerator<Buffer> {
  const scratch = Buffer.allocUnsafe(RANGE_CHUNK);
  for (let at = start; at < end; at += RANGE_CHUNK) {
    const chunk = await source.read(at, Math.min(RANGE_CHUNK, end - at), scratch);
    if (chunk.length === 0) return;
    yield chunk;
  }
}

/** The first offset of `needle` at or after `from`, or -1: searched a chunk at a time, with overlap for a match across. */
export async function indexOfIn(source: PdfBytes, needle: Buffer, from: number): Promise<number> {
  const scratch = Buffer.allocUnsafe(RANGE_CHUNK + needle.length - 1);
  for (let at = from; at < source.size; at += RANGE_CHUNK) {
    const chunk = await source.read(at, scratch.length, scratch);
    const found = chunk.indexOf(needle);
    if (found >= 0) return at + found;
  }
  return -1;
}
