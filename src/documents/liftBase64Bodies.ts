import { randomBytes } from 'node:crypto';

/**
 * A message already whole in memory, with its large base64 bodies decoded by Node's native decoder instead of line
 * by line through mailparser (docs/architecture.md, "MIME readers"). A 200 KB PDF is ~3,600 lines of base64:
 * mailsplit's byte loop, libbase64's clean-up regex and one stream write per line were two fifths of reading such a
 * message (bench/README.md, eighth session).
 *
 * How: each base64 leaf body over `minBodyBytes` is cut out of the message and replaced by one short line of base64
 * that decodes to a marker (a nonce and the body's number). mailparser still reads everything else (headers, the
 * tree, names, small parts), so what a part is called and typed as, its number and where it sits stay mailparser's;
 * extractDocuments swaps the marker back for the decoded body (`LiftedBodies.take`).
 *
 * Only what this scan reads plainly is lifted; anything unusual is left in place for mailparser:
 * - headers with CRLF line ends, one Content-Type and one Content-Transfer-Encoding per part, no comments in them;
 * - a multipart boundary given once, plainly (quoted or not, no RFC 2231 form), of RFC 2046's characters;
 * - a body of base64 characters and CRLF line ends only, no blank line, `=` only at its end: with no `-` in it, no
 *   line of it can be a delimiter (docs/dependencies.md, mailparser);
 * - nothing inside `message/*` parts (forwards, digests) or `multipart/digest`.
 * This is not a MIME parser and may still see a structure otherwise than mailsplit does (a boundary libmime reads
 * differently, a delimiter line only mailsplit accepts): readWholeMessage.ts keeps the lifted reading only when every
 * marker came back whole, and reads the message the plain way otherwise.
 */
export interface LiftedMessage {
  /** The message with the lifted bodies replaced by their markers: what mailparser reads. */
  message: Buffer;
  bodies: LiftedBodies;
}

export class LiftedBodies {
  private readonly decoded = new Map<string, Buffer>();

  constructor(private readonly nonce: string) {}

  get count(): number {
    return this.decoded.size;
  }

  /** The marker that stands for body number `index`, as the bytes mailparser decodes it to. */
  markerFor(index: number): Buffer {
    return Buffer.from(`\u0000faxbridge-lifted-body:${this.nonce}:${index}\u0000`, 'latin1');
  }

  add(index: number, body: Buffer): void {
    this.decoded.set(this.markerFor(index).toString('latin1'), body);
  }

  /** The decoded body a part's whole content stands for, or undefined when the content is not one of our markers. */
  take(content: Buffer): Buffer | undefined {
    if (content.length > MARKER_MAX_BYTES || content[0] !== 0) return undefined;
    const key = content.toString('latin1');
    const body = this.decoded.get(key);
    if (body) this.decoded.delete(key);
    return body;
  }
}

/** Longer than any marker: a part's content is read this far to tell whether it is one. */
export const MARKER_MAX_BYTES = 96;

/** Bodies smaller than this stay where they are: mailparser reads a few lines as fast as this scan. */
export const DEFAULT_MIN_LIFTED_BYTES = 8 * 1024;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const HYPHEN = 0x2d;
const MAX_NESTING = 8;
const MAX_DELIMITER_BLANKS = 998;
/** RFC 2046 §5.1.1 bchars, not ending in a space. */
const BOUNDARY_CHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const BASE64_CHAR = 1;
const PADDING = 2;
const CR = 3;
const BYTE_KINDS = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  BYTE_KINDS[char.charCodeAt(0)] = BASE64_CHAR;
}
BYTE_KINDS['='.charCodeAt(0)] = PADDING;
BYTE_KINDS[0x0d] = CR;

interface Span {
  start: number;
  end: number;
}

interface Lift extends Span {
  index: number;
}

/** The walk's state: what it lifted, and how many parts it may still look at. */
interface Walk {
  minBodyBytes: number;
  lifts: Lift[];
  partsLeft: number;
}

/**
 * More parts than this and nothing is lifted: mailsplit refuses a message past 416 nodes anyway (mimeLimits.ts),
 * and the walk must stay linear in the message whatever it holds.
 */
const MAX_PARTS = 512;

/** null when the message has no body worth lifting. */
export function liftBase64Bodies(
  message: Buffer,
  minBodyBytes = DEFAULT_MIN_LIFTED_BYTES,
): LiftedMessage | null {
  const walk: Walk = { minBodyBytes, lifts: [], partsLeft: MAX_PARTS };
  walkPart(message, { start: 0, end: message.length }, 0, walk);
  const { lifts } = walk;
  if (lifts.length === 0 || walk.partsLeft < 0) return null;
  const bodies = new LiftedBodies(randomBytes(12).toString('hex'));
  const pieces: Buffer[] = [];
  let at = 0;
  for (const lift of lifts) {
    bodies.add(lift.index, Buffer.from(message.toString('latin1', lift.start, lift.end), 'base64'));
    pieces.push(
      message.subarray(at, lift.start),
      Buffer.from(bodies.markerFor(lift.index).toString('base64')),
    );
    pieces.push(CRLF);
    at = lift.end;
  }
  pieces.push(message.subarray(at));
  return { message: Buffer.concat(pieces), bodies };
}

/**
 * One part from its first header line to its end (`part.end`: the start of the line break before its parent's next
 * delimiter, or the end of the message).
 */
function walkPart(message: Buffer, part: Span, depth: number, walk: Walk): void {
  walk.partsLeft -= 1;
  if (depth > MAX_NESTING || walk.partsLeft < 0) return;
  const bodyStart = findBodyStart(message, part);
  if (bodyStart < 0) return;
  const headers = readHeaders(message.toString('latin1', part.start, bodyStart));
  // Without a Content-Type, mailsplit guesses one from the file name (`.eml` is a forwarded message): left to it.
  if (!headers?.contentType) return;
  const type = headers.contentType.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('message/') || type === 'multipart/digest') return;
  const body = { start: bodyStart, end: part.end };
  if (type.startsWith('multipart/')) {
    const boundary = readBoundary(headers.contentType);
    if (boundary) walkChildren(message, body, boundary, depth, walk);
    return;
  }
  if (headers.transferEncoding?.trim().toLowerCase() !== 'base64') return;
  if (body.end - body.start >= walk.minBodyBytes && isPlainBase64(message, body)) {
    walk.lifts.push({ ...body, index: walk.lifts.length });
  }
}

/** The children of a multipart whose body is `body`: each between two delimiter lines of `boundary`. */
function walkChildren(message: Buffer, body: Span, boundary: string, depth: number, walk: Walk): void {
  let line = findDelimiter(message, body.start, body.end, boundary);
  while (line && !line.closing && walk.partsLeft >= 0) {
    const next = findDelimiter(message, line.end, body.end, boundary);
    // An unclosed last part runs to the end of its parent: mailsplit reads it so too.
    const childEnd = next ? lineBreakBefore(message, next.start, line.end) : body.end;
    walkPart(message, { start: line.end, end: childEnd }, depth + 1, walk);
    line = next;
  }
}

interface DelimiterLine extends Span {
  closing: boolean;
}

/** The next line at or after `from` that is `--boundary` or `--boundary--`, with only blanks before its line end. */
function findDelimiter(message: Buffer, from: number, end: number, boundary: string): DelimiterLine | null {
  const dashed = `--${boundary}`;
  // Searched within the span only: each byte is looked at once per level, however the message is built.
  const span = message.subarray(0, end);
  let at = span.indexOf(dashed, from, 'latin1');
  while (at >= 0) {
    const atLineStart = at === from || message[at - 1] === 0x0a;
    const line = atLineStart ? readDelimiterLine(message, at + dashed.length, end) : null;
    if (line) return { start: at, end: line.end, closing: line.closing };
    at = span.indexOf(dashed, at + 1, 'latin1');
  }
  return null;
}

/** What follows `--boundary`: `--` for the closing one, blanks, then CR(s) and LF, or the end for a closing one. */
function readDelimiterLine(
  message: Buffer,
  from: number,
  end: number,
): { end: number; closing: boolean } | null {
  let at = from;
  const closing = message[at] === HYPHEN && message[at + 1] === HYPHEN;
  if (message[at] === HYPHEN && !closing) return null;
  if (closing) at += 2;
  const blanksFrom = at;
  while (at < end && (message[at] === 0x20 || message[at] === 0x09)) at += 1;
  // mailsplit takes no longer line for a delimiter (its BOUNDARY_LINE_TRAILING_WSP).
  if (at - blanksFrom > MAX_DELIMITER_BLANKS) return null;
  if (at >= end) return closing ? { end, closing } : null;
  // Only CRLF, as everywhere this scan lifts from: a lone CR or LF is for mailparser to judge.
  if (message[at] !== 0x0d || message[at + 1] !== 0x0a) return null;
  return { end: at + 2, closing };
}

/** The line break that ends the line before `at` belongs to the delimiter (RFC 2046 §5.1.1). */
function lineBreakBefore(message: Buffer, at: number, floor: number): number {
  if (at - 2 >= floor && message[at - 2] === 0x0d && message[at - 1] === 0x0a) return at - 2;
  return at;
}

/** After the blank line that ends the part's headers; -1 when there is none within the part. */
function findBodyStart(message: Buffer, part: Span): number {
  // A part with no headers at all: its first line is already blank.
  if (message[part.start] === 0x0d && message[part.start + 1] === 0x0a) return part.start + 2;
  const end = message.subarray(0, part.end).indexOf(HEADER_END, part.start);
  return end < 0 ? -1 : end + HEADER_END.length;
}

interface PartHeaders {
  contentType: string | undefined;
  transferEncoding: string | undefined;
}

/** The two headers this scan needs, unfolded; null when either is given twice, holds a comment, or a line is odd. */
function readHeaders(block: string): PartHeaders | null {
  // Bare LF or CR, anywhere in the headers: leave the part to mailparser.
  if (/\r(?!\n)|(?<!\r)\n/.test(block)) return null;
  const found: PartHeaders = { contentType: undefined, transferEncoding: undefined };
  for (const field of block.split(/\r\n(?![ \t])/)) {
    if (field === '') continue;
    const colon = field.indexOf(':');
    if (colon <= 0) return null;
    const name = field.slice(0, colon).trim().toLowerCase();
    const key =
      name === 'content-type'
        ? 'contentType'
        : name === 'content-transfer-encoding'
          ? 'transferEncoding'
          : null;
    if (!key) continue;
    const value = field.slice(colon + 1).replace(/\r\n[ \t]/g, ' ');
    if (found[key] !== undefined || value.includes('(')) return null;
    found[key] = value;
  }
  return found;
}

function readBoundary(contentType: string): string | null {
  if (/boundary\*/i.test(contentType)) return null;
  const matches = [...contentType.matchAll(/;\s*boundary\s*=\s*(?:"([^"\\]*)"|([^\s;"]+))/gi)];
  if (matches.length !== 1) return null;
  const boundary = matches[0]![1] ?? matches[0]![2] ?? '';
  return BOUNDARY_CHARS.test(boundary) ? boundary : null;
}

/**
 * The body of a base64 leaf, when all of it is base64 characters and CRLF line ends, with `=` only at its end and
 * no blank line. It
 * ends where its parent's next delimiter begins (walkChildren): with no `-` in it, no line of it can be a delimiter
 * of any multipart, so mailsplit ends it there too. A loop over the bytes: two regular expressions over the body as
 * a string cost three times as much.
 */
function isPlainBase64(message: Buffer, body: Span): boolean {
  let padded = false;
  // No blank line either: mailsplit would end a header block there, and the marker line has none.
  let lineStart = true;
  for (let at = body.start; at < body.end; at += 1) {
    const kind = BYTE_KINDS[message[at]!];
    if (kind === BASE64_CHAR && !padded) lineStart = false;
    else if (kind === PADDING) {
      padded = true;
      lineStart = false;
    } else if (kind === CR && message[at + 1] === 0x0a && !lineStart) {
      at += 1;
      lineStart = true;
    } else return false;
  }
  return true;
}
