import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * Helpers that look at a MIME part's decoded content while it streams past: peek at its first bytes to decide what
 * it is, then either write it to a file or just measure it. Content is never collected in memory beyond the peeked
 * head (a few KB), so a 50 MB attachment costs a 50 MB file, not 50 MB of heap.
 */

export interface PartHead {
  /** At least the requested number of leading bytes, or all of them for a shorter part. */
  head: Buffer;
  /** The whole content again, head included, continuing the original stream. Must be consumed exactly once. */
  content: AsyncIterable<Buffer>;
}

export interface PartDigest {
  size: number;
  sha256: string;
}

/** Reads just enough chunks to hold `bytes` leading bytes, without losing them for whoever reads the content next. */
export async function peekHead(source: AsyncIterable<Buffer>, bytes: number): Promise<PartHead> {
  const iterator = source[Symbol.asyncIterator]();
  const peeked: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    peeked.push(next.value);
    length += next.value.length;
  }
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => iterator };
  async function* content(): AsyncGenerator<Buffer> {
    yield* peeked;
    // yield* forwards an early return to the source iterator, so an abandoned read destroys the source stream.
    if (!ended) yield* rest;
  }
  return { head: Buffer.concat(peeked, length), content: content() };
}

/** Streams the content into a new file (never overwriting one), with its size and SHA-256 computed on the way. */
export async function savePart(
  content: AsyncIterable<Buffer>,
  path: string,
  signal?: AbortSignal,
): Promise<PartDigest> {
  const digest = makeDigest();
  try {
    await pipeline(
      digest.through(content),
      createWriteStream(path, { flags: 'wx' }),
      signal ? { signal } : {},
    );
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return digest.result();
}

/** Reads the content to its end for its size and SHA-256 only; nothing is kept. */
export async function measurePart(content: AsyncIterable<Buffer>): Promise<PartDigest> {
  const digest = makeDigest();
  for await (const _chunk of digest.through(content)) {
    // Draining is the point: the hash and size are taken inside `through`.
  }
  return digest.result();
}

function makeDigest(): {
  through: (content: AsyncIterable<Buffer>) => AsyncGenerator<Buffer>;
  result: () => PartDigest;
} {
  const hash: Hash = createHash('sha256');
  let size = 0;
  return {
    async *through(content) {
      for await (const chunk of content) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    result: () => ({ size, sha256: hash.digest('hex') }),
  };
}
