import { inflate } from 'node:zlib';

import { MB } from '../lib/units.js';

/**
 * A cheap look at a PDF's structure before pdf-lib parses it (issue 7, abuse limits). pdf-lib builds every object
 * in memory (measured: 100,000 objects take 1.6 s and 170 MB, 500,000 take 8 s and 520 MB) and inflates every
 * compressed object stream whole, so a 50 MB file could hold millions of objects or an object stream that
 * inflates to gigabytes. Both are counted here from the raw bytes and refused before parsing.
 */
export interface PdfStructureLimits {
  /** Indirect objects, those inside object streams included. */
  maxObjects: number;
  /** Bytes all object streams may inflate to together. */
  maxObjectStreamBytes: number;
}

export const DEFAULT_PDF_STRUCTURE_LIMITS: PdfStructureLimits = {
  maxObjects: 100_000,
  maxObjectStreamBytes: 64 * MB,
};

/** `12 0 obj`: the start of every indirect object outside object streams. */
const OBJECT_HEADER = /(?:^|[^0-9])\d{1,10}[\0\t\n\f\r ]+\d{1,5}[\0\t\n\f\r ]+obj\b/g;
/** How far after an object header its dictionary (and the `stream` keyword) is looked for. */
const DICT_WINDOW = 4096;

/** A problem written for the sender ("has more than 100000 objects"), or null when the structure is within limits. */
export async function checkPdfStructure(
  bytes: Buffer,
  limits: PdfStructureLimits = DEFAULT_PDF_STRUCTURE_LIMITS,
): Promise<string | null> {
  let objects = 0;
  let inflatedBudget = limits.maxObjectStreamBytes;
  for (const start of objectHeaderEnds(bytes)) {
    objects += 1;
    const head = bytes.toString('latin1', start, start + DICT_WINDOW);
    if (!/\/Type\s*\/ObjStm\b/.test(head)) continue;
    const count = /\/N\s+(\d{1,9})\b/.exec(head);
    objects += count ? Number(count[1]) : 0;
    if (objects > limits.maxObjects) break;
    const stream = streamData(bytes, head, start);
    if (!stream || !/\/FlateDecode\b/.test(head.slice(0, head.indexOf('stream')))) continue;
    const inflated = await inflatedSize(stream, inflatedBudget);
    if (inflated === 'too-large') {
      return `has compressed object streams that expand to more than ${Math.round(limits.maxObjectStreamBytes / MB)} MB`;
    }
    inflatedBudget -= inflated ?? 0;
  }
  if (objects > limits.maxObjects)
    return `has more than ${limits.maxObjects} objects; it is too complex to fax`;
  return null;
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

/** The raw bytes between `stream` and `endstream` of the object whose header ends at `start`. */
function streamData(bytes: Buffer, head: string, start: number): Buffer | null {
  const keyword = /\bstream(\r\n|\n|\r)/.exec(head);
  if (!keyword) return null;
  const dataStart = start + keyword.index + keyword[0].length;
  const end = bytes.indexOf('endstream', dataStart, 'latin1');
  return end < 0 ? null : bytes.subarray(dataStart, end);
}

/** The inflated length, 'too-large' past `budget`, or null when the data does not inflate (pdf-lib will judge). */
function inflatedSize(data: Buffer, budget: number): Promise<number | 'too-large' | null> {
  return new Promise((resolve) => {
    inflate(data, { maxOutputLength: Math.max(1, budget) }, (error, result) => {
      if (!error) return resolve(result.length);
      resolve((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : null);
    });
  });
}
