import { MB } from '../lib/units.js';
import { countInflatedBytes } from './flateBudget.js';
import { type PdfDictionary, readDictionary, streamDataStart } from './pdfDictionary.js';

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

/** `12 0 obj`, comments allowed between the parts as pdf-lib allows them. */
const OBJECT_HEADER =
  /(?:^|[^0-9])\d{1,10}(?:[\0\t\n\f\r ]|%[^\r\n]*)+\d{1,5}(?:[\0\t\n\f\r ]|%[^\r\n]*)+obj\b/g;
/** A dictionary this large is not something a document needs; reading it further would be the attack. */
const MAX_DICTIONARY_BYTES = 1 * MB;
/** More Flate layers than any producer writes; each one multiplies the expansion by up to ~1,000. */
const MAX_FLATE_LAYERS = 4;
const FLATE_NAMES = new Set(['FlateDecode', 'Fl']);

/** Why the structure is refused, in a few words ("more than 100000 objects"), or null when it is within limits. */
export async function checkPdfStructure(
  bytes: Buffer,
  given: Partial<PdfStructureLimits> = {},
): Promise<string | null> {
  const limits = { ...DEFAULT_PDF_STRUCTURE_LIMITS, ...given };
  let objects = 0;
  let objectStreamBytes = 0;
  let inflatedBytes = 0;
  for (const start of objectHeaderEnds(bytes)) {
    objects += 1;
    if (objects > limits.maxObjects) break;
    const dict = readDictionary(bytes, start, MAX_DICTIONARY_BYTES);
    if (!dict) {
      if (bytes.length - start > MAX_DICTIONARY_BYTES && opensDictionary(bytes, start)) {
        return `an object dictionary larger than ${MAX_DICTIONARY_BYTES / MB} MB`;
      }
      continue;
    }
    const isObjectStream = nameOf(dict, 'Type') === 'ObjStm';
    if (isObjectStream) {
      const count = dict.entries.get('N');
      // pdf-lib parses as many objects as /N says; an indirect or absurd /N is not something to trust.
      if (count?.kind !== 'number' || !Number.isSafeInteger(count.value) || count.value < 0)
        return 'an object stream without a plain object count';
      objects += count.value;
      if (objects > limits.maxObjects) break;
    }
    const dataStart = streamDataStart(bytes, dict.end);
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
    const { budget, reason } = tightestBudget(limits, isObjectStream, inflatedBytes, objectStreamBytes);
    const inflated = await countInflatedBytes(streamData(bytes, dict, dataStart), flateLayers, budget);
    if (inflated.overBudget) return reason;
    inflatedBytes += inflated.bytes;
    if (isObjectStream) objectStreamBytes += inflated.bytes;
  }
  if (objects > limits.maxObjects) return `more than ${limits.maxObjects} objects`;
  return null;
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

function opensDictionary(bytes: Buffer, at: number): boolean {
  return /^[\0\t\n\f\r ]*<</.test(bytes.toString('latin1', at, at + 64));
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
 * The stream's bytes as a reader takes them: /Length when it is a plain number, else up to `endstream`. When the
 * two disagree the longer is measured, so neither reading can hide data from the check.
 */
function streamData(bytes: Buffer, dict: PdfDictionary, start: number): Buffer {
  const length = dict.entries.get('Length');
  const declaredEnd = length?.kind === 'number' && length.value >= 0 ? start + length.value : start;
  const keyword = bytes.indexOf('endstream', start, 'latin1');
  const scannedEnd = keyword < 0 ? bytes.length : keyword;
  return bytes.subarray(start, Math.min(bytes.length, Math.max(declaredEnd, scannedEnd)));
}

/** Scanned a window at a time: a whole 50 MB file as one string would cost another 50 MB (bench/memory50mb.ts). */
const SCAN_WINDOW = 1 * MB;
/** Enough context on both sides of a window for any object header that straddles its edge. */
const SCAN_OVERLAP = 256;

/** Offsets just past each `N G obj` header, in file order, each once. */
function* objectHeaderEnds(bytes: Buffer): Generator<number> {
  for (let chunkStart = 0; chunkStart < bytes.length; chunkStart += SCAN_WINDOW) {
    const windowStart = Math.max(0, chunkStart - SCAN_OVERLAP);
    const text = bytes.toString(
      'latin1',
      windowStart,
      Math.min(bytes.length, chunkStart + SCAN_WINDOW + SCAN_OVERLAP),
    );
    for (const match of text.matchAll(OBJECT_HEADER)) {
      // The match may begin with the non-digit before the number; the number itself decides the window.
      const numberAt = windowStart + match.index + (/^[0-9]/.test(match[0]) ? 0 : 1);
      if (numberAt < chunkStart || numberAt >= chunkStart + SCAN_WINDOW) continue;
      yield windowStart + match.index + match[0].length;
    }
  }
}
