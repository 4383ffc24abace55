import { MB } from '../lib/units.js';
import { countInflatedBytes } from './flateBudget.js';
import { bufferBytes, indexOfIn, openPdfBytes, type PdfBytes, readRange } from './pdfBytes.js';
import {
  type PdfDictionary,
  readDictionary,
  STREAM_KEYWORD_REACH,
  streamDataStart,
} from './pdfDictionary.js';
import { type ObjectHeader, objectHeaders } from './pdfObjectHeaders.js';

/** PDF white space (ISO 32000-1 §7.2.2). */
const WHITESPACE = [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20];

/**
 * A cheap look at a PDF's structure before pdf-lib parses it. pdf-lib builds every object in memory (measured:
 * 100,000 objects take 1.6 s and 170 MB, 500,000 take 8 s and 520 MB) and inflates every compressed object stream
 * whole, so a 50 MB file could hold millions of objects or a stream that expands to gigabytes. Objects are
 * counted and every Flate stream's expansion is measured (through every layer of its filter chain) from the raw
 * bytes, and refused beyond the limits. It runs inside the document sandbox, whose memory and time limits stop
 * whatever this check does not foresee.
 */
export interface PdfStructureLimits {
  /** Indirect objects, those inside object streams included. */
  maxObjects: number;
  /** Bytes all object streams (which pdf-lib inflates whole, in memory) may expand to together. */
  maxObjectStreamBytes: number;
  /** Bytes one stream (a page's content, an image) may expand to: what a fax renderer would face. */
  maxStreamBytes: number;
  /** Bytes all compressed streams may expand to together. */
  maxInflatedBytes: number;
}

export const DEFAULT_PDF_STRUCTURE_LIMITS: PdfStructureLimits = {
  maxObjects: 100_000,
  maxObjectStreamBytes: 64 * MB,
  maxStreamBytes: 256 * MB,
  maxInflatedBytes: 1024 * MB,
};

/** A dictionary this large is not something a document needs; reading it further would be the attack. */
const MAX_DICTIONARY_BYTES = 1 * MB;
/** More Flate layers than any producer writes; each one multiplies the expansion by up to ~1,000. */
const MAX_FLATE_LAYERS = 4;
const FLATE_NAMES = new Set(['FlateDecode', 'Fl']);
/**
 * The most one layer of Flate (deflate) can expand: a match of 258 bytes coded in 2 bits, 258 × 8 / 2 = 1032
 * to 1 (RFC 1951's longest match; block headers only lower it). What a file's single-layer streams can expand
 * to together is at most its size times this.
 */
const MAX_DEFLATE_RATIO = 1032;
const ENDSTREAM = Buffer.from('endstream', 'latin1');

/**
 * Why the structure is refused, in a few words ("more than 100000 objects"), or null when it is within limits.
 * `pdf` is the file's path (read a window at a time, never whole) or bytes already in memory.
 */
export async function checkPdfStructure(
  pdf: string | Buffer,
  given: Partial<PdfStructureLimits> = {},
): Promise<string | null> {
  const source = typeof pdf === 'string' ? await openPdfBytes(pdf) : bufferBytes(pdf);
  try {
    return await checkObjects(source, { ...DEFAULT_PDF_STRUCTURE_LIMITS, ...given });
  } finally {
    await source.close();
  }
}

async function checkObjects(source: PdfBytes, limits: PdfStructureLimits): Promise<string | null> {
  let objects = 0;
  let objectStreamBytes = 0;
  // A file too small for its single-layer streams to cross the stream and total limits whatever they hold (most
  // faxes: under ~250 KB with the defaults) need not have them inflated to prove it; their most is set aside
  // against the total at once. Object streams and streams of several layers are measured all the same.
  const singleLayerMost = source.size * MAX_DEFLATE_RATIO;
  const boundedBySize =
    singleLayerMost <= limits.maxStreamBytes && singleLayerMost <= limits.maxInflatedBytes;
  let inflatedBytes = boundedBySize ? singleLayerMost : 0;
  /** Where the data of the last stream left unmeasured ends. */
  let skippedUpTo = 0;
  for await (const header of objectHeaders(source)) {
    objects += 1;
    if (objects > limits.maxObjects) break;
    const dict = await dictionaryAfter(source, header);
    if (typeof dict === 'string') return dict;
    if (!dict) continue;
    const isObjectStream = nameOf(dict, 'Type') === 'ObjStm';
    if (isObjectStream) {
      const count = dict.entries.get('N');
      // pdf-lib parses as many objects as /N says; an indirect or absurd /N is not something to trust.
      if (count?.kind !== 'number' || !Number.isSafeInteger(count.value) || count.value < 0)
        return 'an object stream without a plain object count';
      objects += count.value;
      if (objects > limits.maxObjects) break;
    }
    const dataStart = await streamStartAfter(source, header, dict.end);
    if (dataStart === null) continue;
    const filters = filterChain(dict);
    if (filters === null) {
      if (isObjectStream) return 'an object stream with filters that cannot be checked';
      continue;
    }
    const flateLayers = leadingFlateLayers(filters);
    if (flateLayers > MAX_FLATE_LAYERS) return `data compressed ${flateLayers} times over`;
    // pdf-lib undoes the whole chain of an object stream; only Flate is known to be checked here.
    if (isObjectStream && flateLayers !== filters.length)
      return 'an object stream with filters that cannot be checked';
    if (flateLayers === 0) continue;
    if (boundedBySize && flateLayers === 1 && !isObjectStream) {
      // Only a stream whose data lies past every stream skipped so far: an object header can sit inside another
      // stream's data, and streams sharing bytes could expand them more than once, past what the file's size allows.
      const dataEnd = await streamDataEnd(source, dict, dataStart);
      if (dataStart >= skippedUpTo) {
        skippedUpTo = dataEnd;
        continue;
      }
    }
    const { budget, reason } = tightestBudget(limits, isObjectStream, inflatedBytes, objectStreamBytes);
    const dataEnd = await streamDataEnd(source, dict, dataStart);
    const inflated = await countInflatedBytes(readRange(source, dataStart, dataEnd), flateLayers, budget);
    if (inflated.overBudget) return reason;
    inflatedBytes += inflated.bytes;
    if (isObjectStream) objectStreamBytes += inflated.bytes;
  }
  if (objects > limits.maxObjects) return `more than ${limits.maxObjects} objects`;
  return null;
}

/**
 * The dictionary that follows an object header (its `end` a file offset), read from the scan window when it
 * closes there, else from a read of its own; a refusal when it is too large to read; null when there is none.
 */
async function dictionaryAfter(
  source: PdfBytes,
  header: ObjectHeader,
): Promise<PdfDictionary | string | null> {
  let bytes = header.window;
  let base = header.windowStart;
  let read = readDictionary(bytes, header.end - base, MAX_DICTIONARY_BYTES);
  const windowEnd = base + bytes.length;
  if (read === 'cut' && windowEnd < source.size && windowEnd < header.end + MAX_DICTIONARY_BYTES) {
    bytes = await source.read(header.end, MAX_DICTIONARY_BYTES);
    base = header.end;
    read = readDictionary(bytes, 0, MAX_DICTIONARY_BYTES);
  }
  if (typeof read === 'object') return { entries: read.entries, end: base + read.end };
  if (source.size - header.end > MAX_DICTIONARY_BYTES && opensDictionary(bytes, header.end - base)) {
    return `an object dictionary larger than ${MAX_DICTIONARY_BYTES / MB} MB`;
  }
  return null;
}

/** Where a stream's data begins when `stream` follows the dictionary that ends at `dictEnd`, else null. */
async function streamStartAfter(
  source: PdfBytes,
  header: ObjectHeader,
  dictEnd: number,
): Promise<number | null> {
  const windowEnd = header.windowStart + header.window.length;
  if (dictEnd + STREAM_KEYWORD_REACH <= windowEnd || windowEnd >= source.size) {
    const start = streamDataStart(header.window, dictEnd - header.windowStart);
    return start === null ? null : header.windowStart + start;
  }
  const start = streamDataStart(await source.read(dictEnd, STREAM_KEYWORD_REACH), 0);
  return start === null ? null : dictEnd + start;
}

/** The smallest of the limits left for this stream, with the words that explain it if it is crossed. */
function tightestBudget(
  limits: PdfStructureLimits,
  isObjectStream: boolean,
  inflatedBytes: number,
  objectStreamBytes: number,
): { budget: number; reason: string } {
  const megabytes = (value: number): string => `${Math.round(value / MB)} MB`;
  const candidates = [
    {
      budget: limits.maxStreamBytes,
      reason: `a compressed stream that expands to more than ${megabytes(limits.maxStreamBytes)}`,
    },
    {
      budget: limits.maxInflatedBytes - inflatedBytes,
      reason: `compressed data that expands to more than ${megabytes(limits.maxInflatedBytes)}`,
    },
  ];
  if (isObjectStream) {
    candidates.push({
      budget: limits.maxObjectStreamBytes - objectStreamBytes,
      reason: `compressed object streams that expand to more than ${megabytes(limits.maxObjectStreamBytes)}`,
    });
  }
  return candidates.reduce((tightest, next) => (next.budget < tightest.budget ? next : tightest));
}

/** Whether `<<` follows `at` after white space only. */
function opensDictionary(bytes: Buffer, at: number): boolean {
  let pos = at;
  while (pos < bytes.length && WHITESPACE.includes(bytes[pos]!)) pos += 1;
  return bytes[pos] === 0x3c && bytes[pos + 1] === 0x3c;
}

function nameOf(dict: PdfDictionary, key: string): string | null {
  const value = dict.entries.get(key);
  return value?.kind === 'name' ? value.name : null;
}

/** The filter names in order; [] without a filter; null when they are not written out (an indirect /Filter). */
function filterChain(dict: PdfDictionary): string[] | null {
  const filter = dict.entries.get('Filter');
  if (!filter) return [];
  if (filter.kind === 'name') return [filter.name];
  if (filter.kind === 'names') return filter.names;
  return null;
}

function leadingFlateLayers(filters: string[]): number {
  let layers = 0;
  while (layers < filters.length && FLATE_NAMES.has(filters[layers]!)) layers += 1;
  return layers;
}

/**
 * The end of a stream's bytes as a reader takes them: /Length when it is a plain number, else up to `endstream`.
 * When the two disagree the longer is measured, so neither reading can hide data from the check.
 */
async function streamDataEnd(source: PdfBytes, dict: PdfDictionary, start: number): Promise<number> {
  const length = dict.entries.get('Length');
  const declaredEnd = length?.kind === 'number' && length.value >= 0 ? start + length.value : start;
  const keyword = await indexOfIn(source, ENDSTREAM, start);
  const scannedEnd = keyword < 0 ? source.size : keyword;
  return Math.min(source.size, Math.max(declaredEnd, scannedEnd));
}
