import { open } from 'node:fs/promises';

/**
 * Finds the message inside an opaque-signed S/MIME blob (`smime.p7m`, smime-type=signed-data, RFC 8551 §3.5.2):
 * a CMS SignedData (RFC 5652 §5) whose encapsulated content is the MIME entity the sender wrote, signature and
 * certificates around it. Outlook sends signed mail this way when "send clear signed" is off; the document is
 * inside, and a mail client that does not check signatures simply opens it.
 *
 * The answer is the byte ranges of the content in the file, never the bytes: the caller streams them into the MIME
 * parser, so a large signed message is not read into memory. The walk reads only the few bytes of each element's
 * tag and length, so its cost is bounded by the number of elements on the way to the content, capped below; no
 * signature is checked (faxbridge does not vouch for senders by S/MIME, docs/behaviour.md §10). BER is accepted as
 * well as DER: indefinite lengths and an OCTET STRING sent in chunks, as streaming signers write them.
 */
export interface ByteRange {
  /** Offset of the first byte. */
  start: number;
  /** Offset just past the last byte. */
  end: number;
}

/** DER of the OIDs signedData (1.2.840.113549.1.7.2) and data (…7.1), the only content type that holds MIME. */
const OID_SIGNED_DATA = Buffer.from('2a864886f70d010702', 'hex');
const OID_DATA = Buffer.from('2a864886f70d010701', 'hex');
/**
 * Elements read on the way: a handful before the content, then one per chunk of a chunked OCTET STRING (streaming
 * signers write 1–4 KB chunks, so a 70 MB message has tens of thousands). A nesting deeper than 8 is a trick, and
 * so is content cut into chunks far smaller than any signer writes: each chunk costs a step of this walk and of
 * the reading, so 3 MB of 1-byte chunks would cost as much as millions of parts. Past MANY_CHUNKS chunks the
 * average must be at least MIN_AVERAGE_CHUNK bytes.
 */
const MAX_ELEMENTS = 200_000;
const MANY_CHUNKS = 1000;
const MIN_AVERAGE_CHUNK = 256;
const MAX_NESTING = 8;
/** Headers are read through a window of this size, not one small read each. */
const WINDOW = 64 * 1024;

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const OCTET_STRING_CONSTRUCTED = 0x24;
const CONTEXT_0 = 0xa0;

interface Header {
  tag: number;
  /** Where the element's content starts. */
  start: number;
  /** Content length, or null for an indefinite length (ended by two zero bytes). */
  length: number | null;
}

/** The content's byte ranges in order, or null when the file is a signature without content or not SignedData. */
export async function findSignedContent(path: string): Promise<ByteRange[] | null> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const reader = makeReader(file, size);
    return await walk(reader);
  } catch (error) {
    if (error instanceof MalformedCms) return null;
    throw error;
  } finally {
    await file.close();
  }
}

class MalformedCms extends Error {}

function fail(): never {
  throw new MalformedCms('not a readable CMS SignedData');
}

type Reader = ReturnType<typeof makeReader>;

function makeReader(file: Awaited<ReturnType<typeof open>>, size: number) {
  let elements = 0;
  let window = Buffer.alloc(0);
  let windowAt = 0;
  const bytes = async (at: number, count: number): Promise<Buffer> => {
    if (at < 0 || count > WINDOW || at + count > size) fail();
    if (at < windowAt || at + count > windowAt + window.length) {
      const buffer = Buffer.alloc(Math.min(WINDOW, size - at));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
      window = buffer.subarray(0, bytesRead);
      windowAt = at;
      if (bytesRead < count) fail();
    }
    return window.subarray(at - windowAt, at - windowAt + count);
  };
  /** Reads the tag and length at `at`; only single-byte tags occur on the path to the content. */
  const header = async (at: number): Promise<Header> => {
    if ((elements += 1) > MAX_ELEMENTS) fail();
    const head = await bytes(at, Math.min(6, size - at));
    if (head.length < 2 || (head[0]! & 0x1f) === 0x1f) fail();
    const tag = head[0]!;
    const first = head[1]!;
    if (first < 0x80) return { tag, start: at + 2, length: first };
    if (first === 0x80) {
      if (!(tag & 0x20)) fail(); // indefinite length is for constructed elements only
      return { tag, start: at + 2, length: null };
    }
    const count = first & 0x7f;
    if (count > 4 || head.length < 2 + count) fail();
    let length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + head[2 + i]!;
    const start = at + 2 + count;
    if (start + length > size) fail();
    return { tag, start, length };
  };
  return { bytes, header, size };
}

async function walk(reader: Reader): Promise<ByteRange[] | null> {
  const contentInfo = await expect(reader, 0, SEQUENCE);
  let at = contentInfo.start;
  const type = await expect(reader, at, OID);
  if (!(await reader.bytes(type.start, type.length!)).equals(OID_SIGNED_DATA)) return null;
  at = await end(reader, type);
  const explicit = await expect(reader, at, CONTEXT_0);
  const signedData = await expect(reader, explicit.start, SEQUENCE);
  at = signedData.start;
  at = await end(reader, await expect(reader, at, INTEGER)); // version
  at = await end(reader, await expect(reader, at, SET)); // digestAlgorithms
  const encapsulated = await expect(reader, at, SEQUENCE);
  at = encapsulated.start;
  const contentType = await expect(reader, at, OID);
  if (!(await reader.bytes(contentType.start, contentType.length!)).equals(OID_DATA)) return null;
  at = await end(reader, contentType);
  // eContent is optional: a detached signature (.p7s) has none; the content then travelled beside it.
  if (encapsulated.length !== null && at >= encapsulated.start + encapsulated.length) return null;
  const wrapper = await reader.header(at);
  if (wrapper.tag !== CONTEXT_0) return null;
  const ranges: ByteRange[] = [];
  await collectOctets(reader, wrapper.start, ranges, 0);
  if (ranges.length > MANY_CHUNKS) {
    const total = ranges.reduce((sum, range) => sum + range.end - range.start, 0);
    if (total / ranges.length < MIN_AVERAGE_CHUNK) fail();
  }
  return ranges;
}

async function expect(reader: Reader, at: number, tag: number): Promise<Header> {
  const header = await reader.header(at);
  if (header.tag !== tag) fail();
  return header;
}

/** The offset just past an element; for an indefinite length, found by walking its children to the end mark. */
async function end(reader: Reader, header: Header, depth = 0): Promise<number> {
  if (header.length !== null) return header.start + header.length;
  if (depth > MAX_NESTING) fail();
  let at = header.start;
  for (;;) {
    const mark = await reader.bytes(at, 2);
    if (mark[0] === 0 && mark[1] === 0) return at + 2;
    at = await end(reader, await reader.header(at), depth + 1);
  }
}

/** The primitive OCTET STRING segments of the (possibly chunked, possibly nested) OCTET STRING at `at`. */
async function collectOctets(
  reader: Reader,
  at: number,
  ranges: ByteRange[],
  depth: number,
): Promise<number> {
  const header = await reader.header(at);
  if (header.tag === OCTET_STRING) {
    if (header.length === null) fail();
    if (header.length > 0) ranges.push({ start: header.start, end: header.start + header.length });
    // Checked as the chunks come, so a file of tiny chunks is given up early, not walked to its end.
    if (ranges.length > MANY_CHUNKS && ranges.length % MANY_CHUNKS === 0) {
      const total = ranges.reduce((sum, range) => sum + range.end - range.start, 0);
      if (total / ranges.length < MIN_AVERAGE_CHUNK) fail();
    }
    return header.start + header.length;
  }
  if (header.tag !== OCTET_STRING_CONSTRUCTED || depth >= MAX_NESTING) fail();
  let next = header.start;
  const limit = header.length === null ? reader.size : header.start + header.length;
  while (next < limit) {
    if (header.length === null) {
      const mark = await reader.bytes(next, 2);
      if (mark[0] === 0 && mark[1] === 0) return next + 2;
    }
    next = await collectOctets(reader, next, ranges, depth + 1);
  }
  if (header.length === null || next !== limit) fail();
  return next;
}

/** Batches handed to the MIME parser; chunks are gathered into them, so tiny chunks do not each cost a write. */
const BATCH = 64 * 1024;

/**
 * The bytes of `ranges` in order, read through one open file with positioned reads: never a stream per range, and
 * never the whole content in memory.
 */
export async function* readRanges(path: string, ranges: readonly ByteRange[]): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    let batch: Buffer[] = [];
    let batched = 0;
    for (const range of ranges) {
      for (let at = range.start; at < range.end;) {
        const chunk = Buffer.allocUnsafe(Math.min(BATCH, range.end - at));
        const { bytesRead } = await file.read(chunk, 0, chunk.length, at);
        if (bytesRead === 0) throw new Error(`${path} ended before its signed content`);
        batch.push(chunk.subarray(0, bytesRead));
        batched += bytesRead;
        at += bytesRead;
        if (batched >= BATCH) {
          yield Buffer.concat(batch, batched);
          batch = [];
          batched = 0;
        }
      }
    }
    if (batched > 0) yield Buffer.concat(batch, batched);
  } finally {
    await file.close();
  }
}
