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
  const text = bytes.toString('latin1');
  let objects = 0;
  let inflatedBudget = limits.maxObjectStreamBytes;
  for (const match of text.matchAll(OBJECT_HEADER)) {
    objects += 1;
    const start = match.index + match[0].length;
    const head = text.slice(start, start + DICT_WINDOW);
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
