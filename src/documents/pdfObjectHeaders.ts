import { MB } from '../lib/units.js';
import type { PdfBytes } from './pdfBytes.js';

/**
 * Finds every indirect object header (`12 0 obj`) in a PDF's raw bytes, the way pdf-lib's parser reads one: a
 * number, white space or comments, a generation number, white space or comments, `obj`; a comment runs from `%`
 * to the end of its line (ISO 32000-1 §7.2.3). The file is scanned a window at a time with `indexOf('obj')`, and
 * each hit is read backwards; no part of the file is ever turned into a string (a 50 MB file as strings would cost
 * another 50 MB outside the V8 heap, bench/memory50mb.ts).
 */
export interface ObjectHeader {
  /** File offset just past `obj`. */
  end: number;
  /** The scan window holding the header, valid until the scan moves on: what follows can often be read here. */
  window: Buffer;
  /** File offset of `window[0]`. */
  windowStart: number;
}

/** Each window holds 1 MB of new bytes. */
const SCAN_WINDOW = 1 * MB;
/**
 * How far back of a window's first `obj` its header may begin: a header with longer comments inside is not one a
 * producer writes, and its object is still read by pdf-lib inside the sandbox's limits.
 */
const LOOK_BACK = 4096;
const OBJ = Buffer.from('obj', 'latin1');

/** Headers in file order, each once (by the offset of its `obj`, which lies in exactly one window). */
export async function* objectHeaders(source: PdfBytes): AsyncGenerator<ObjectHeader> {
  const scratch = Buffer.allocUnsafe(LOOK_BACK + SCAN_WINDOW + OBJ.length);
  for (let chunkStart = 0; chunkStart < source.size; chunkStart += SCAN_WINDOW) {
    const windowStart = Math.max(0, chunkStart - LOOK_BACK);
    // The 3 bytes past the window are there to see what follows an `obj` at its very end.
    const window = await source.read(
      windowStart,
      chunkStart + SCAN_WINDOW + OBJ.length - windowStart,
      scratch,
    );
    const last = chunkStart + SCAN_WINDOW - windowStart;
    for (let at = window.indexOf(OBJ, chunkStart - windowStart); at >= 0 && at < last;) {
      if (endsWord(window, at + OBJ.length) && isHeaderBefore(window, at, windowStart === 0)) {
        yield { end: windowStart + at + OBJ.length, window, windowStart };
      }
      at = window.indexOf(OBJ, at + 1);
    }
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/** PDF white space (§7.2.2): NUL, tab, line feed, form feed, carriage return, space. */
function isSpace(byte: number | undefined): boolean {
  return byte === 0x00 || byte === 0x09 || byte === 0x0a || byte === 0x0c || byte === 0x0d || byte === 0x20;
}

/** `obj` is a keyword only when no letter, digit or `_` follows it (`objects`, `obj2` are not). */
function endsWord(bytes: Buffer, at: number): boolean {
  const next = bytes[at];
  if (next === undefined) return true;
  return !(
    isDigit(next) ||
    (next >= 0x41 && next <= 0x5a) ||
    (next >= 0x61 && next <= 0x7a) ||
    next === 0x5f
  );
}

/**
 * Whether `N G ` (with white space or comments) ends right before `objAt`. Nothing before `objAt - LOOK_BACK` is
 * looked at: each `obj` costs at most that much, so a file cannot make the scan quadratic (a LF-only file once made
 * every look for a carriage return run back to the window's start).
 */
function isHeaderBefore(bytes: Buffer, objAt: number, atFileStart: boolean): boolean {
  const floor = Math.max(0, objAt - LOOK_BACK);
  const generationEnd = separatorsBefore(bytes, objAt, floor);
  if (generationEnd === null) return false;
  const generationStart = digitsBefore(bytes, generationEnd, floor);
  const generationDigits = generationEnd - generationStart;
  if (generationDigits < 1 || generationDigits > 5) return false;
  const numberEnd = separatorsBefore(bytes, generationStart, floor);
  if (numberEnd === null) return false;
  const numberStart = digitsBefore(bytes, numberEnd, floor);
  const numberDigits = numberEnd - numberStart;
  if (numberDigits < 1 || numberDigits > 10) return false;
  // At the window's edge the number could go on in bytes not seen; only the file's first byte is a sure start.
  return numberStart > 0 || atFileStart;
}

function digitsBefore(bytes: Buffer, end: number, floor: number): number {
  let at = end;
  while (at > floor && isDigit(bytes[at - 1])) at -= 1;
  return at;
}

/**
 * Where the white space and comments that end at `end` begin, or null when there are none. A comment can only
 * precede what follows it across a line break, and it begins at the first `%` of its line: anything after that
 * `%` on the line, digits included, is part of the comment.
 */
function separatorsBefore(bytes: Buffer, end: number, floor: number): number | null {
  let at = end;
  for (;;) {
    const before = at;
    while (at > floor && isSpace(bytes[at - 1])) at -= 1;
    if (at <= floor || !hasLineBreak(bytes, at, before)) break;
    const lineStart = lineStartBefore(bytes, at, floor);
    const comment = bytes.subarray(lineStart, at).indexOf(0x25);
    if (comment < 0) break;
    at = lineStart + comment;
  }
  return at < end ? at : null;
}

/** The start of the line that `at` is in (just past the last CR or LF before it), never before `floor`. */
function lineStartBefore(bytes: Buffer, at: number, floor: number): number {
  let start = at;
  while (start > floor && bytes[start - 1] !== 0x0a && bytes[start - 1] !== 0x0d) start -= 1;
  return start;
}

function hasLineBreak(bytes: Buffer, from: number, to: number): boolean {
  for (let at = from; at < to; at += 1) if (bytes[at] === 0x0a || bytes[at] === 0x0d) return true;
  return false;
}
