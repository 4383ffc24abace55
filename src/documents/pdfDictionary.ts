/**
 * Just enough of the PDF object syntax (ISO 32000-1 §7.2–7.3) to read the top level of one object's dictionary
 * from the raw file bytes: its keys, and for each a name, a number, an indirect reference, an array of names, or
 * "something else". The structure check uses it to find object streams and their filters without pdf-lib.
 *
 * Names are decoded the way readers decode them (`/Obj#53tm` is `/ObjStm`, `/Fl#61teDecode` is `/FlateDecode`):
 * a check that compares the raw spelling is trivially bypassed. Strings, hex strings and comments are skipped
 * whole, so a `>>` or a name inside them cannot end or fake the dictionary.
 */
export type PdfValue =
  | { kind: 'name'; name: string }
  | { kind: 'number'; value: number }
  | { kind: 'ref' }
  | { kind: 'names'; names: string[] }
  | { kind: 'other' };

export interface PdfDictionary {
  entries: Map<string, PdfValue>;
  /** Offset just past the closing `>>`. */
  end: number;
}

const WHITESPACE = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIMITERS = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

type Token =
  | { kind: 'name'; name: string }
  | { kind: 'number'; value: number }
  | { kind: 'word'; word: string }
  | { kind: 'open-dict' | 'close-dict' | 'open-array' | 'close-array' | 'string' };

/** A tokenizer over `bytes` from `pos`, never reading past `limit`. */
class Lexer {
  /** Set when a token ran into `limit`: more bytes might have read differently. */
  truncated = false;

  constructor(
    private readonly bytes: Buffer,
    public pos: number,
    private readonly limit: number,
  ) {}

  skipSpaceAndComments(): void {
    while (this.pos < this.limit) {
      const byte = this.bytes[this.pos]!;
      if (WHITESPACE.has(byte)) this.pos += 1;
      else if (byte === 0x25) {
        while (this.pos < this.limit && this.bytes[this.pos] !== 0x0a && this.bytes[this.pos] !== 0x0d)
          this.pos += 1;
      } else return;
    }
  }

  /** The next token, or null at the limit or on bytes that are not PDF syntax. */
  next(): Token | null {
    this.skipSpaceAndComments();
    if (this.pos >= this.limit) return this.cut();
    const { bytes } = this;
    const byte = bytes[this.pos]!;
    const following = bytes[this.pos + 1];
    if (byte === 0x3c && following === 0x3c) return this.advance(2, { kind: 'open-dict' });
    if (byte === 0x3e && following === 0x3e) return this.advance(2, { kind: 'close-dict' });
    if (byte === 0x5b) return this.advance(1, { kind: 'open-array' });
    if (byte === 0x5d) return this.advance(1, { kind: 'close-array' });
    if (byte === 0x28) return this.skipLiteralString();
    if (byte === 0x3c) {
      const close = bytes.indexOf(0x3e, this.pos);
      if (close < 0 || close >= this.limit) return this.cut();
      return this.advance(close + 1 - this.pos, { kind: 'string' });
    }
    const start = byte === 0x2f ? this.pos + 1 : this.pos;
    let end = start;
    while (end < this.limit && !WHITESPACE.has(bytes[end]!) && !DELIMITERS.has(bytes[end]!)) end += 1;
    if (end === this.limit) this.truncated = true;
    if (end === start && byte !== 0x2f) return null;
    const text = bytes.toString('latin1', start, end);
    this.pos = end;
    if (byte === 0x2f) return { kind: 'name', name: decodeName(text) };
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return { kind: 'number', value: Number(text) };
    return { kind: 'word', word: text };
  }

  private cut(): null {
    this.truncated = true;
    return null;
  }

  private advance(by: number, token: Token): Token {
    this.pos += by;
    return token;
  }

  /** `( … )` with balanced parentheses and backslash escapes. */
  private skipLiteralString(): Token | null {
    let depth = 0;
    for (let at = this.pos; at < this.limit; at += 1) {
      const byte = this.bytes[at];
      if (byte === 0x5c) at += 1;
      else if (byte === 0x28) depth += 1;
      else if (byte === 0x29 && --depth === 0) return this.advance(at + 1 - this.pos, { kind: 'string' });
    }
    return this.cut();
  }
}

/** `#xx` escapes decoded, as every reader does (PDF 1.2 and later). */
export function decodeName(raw: string): string {
  return raw.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * Reads the dictionary starting at `start` (after whitespace and comments), within `maxBytes` and the end of
 * `bytes`. `unreadable`: there is none, or it is not PDF syntax; `cut`: it ran into the end of what it was given,
 * so more bytes might finish it (the caller decides what an unreadable or oversized dictionary means).
 */
export function readDictionary(
  bytes: Buffer,
  start: number,
  maxBytes: number,
): PdfDictionary | 'unreadable' | 'cut' {
  const lexer = new Lexer(bytes, start, Math.min(bytes.length, start + maxBytes));
  const dictionary = readEntries(lexer);
  if (dictionary) return dictionary;
  return lexer.truncated ? 'cut' : 'unreadable';
}

function readEntries(lexer: Lexer): PdfDictionary | null {
  if (lexer.next()?.kind !== 'open-dict') return null;
  const entries = new Map<string, PdfValue>();
  for (;;) {
    const key = lexer.next();
    if (!key) return null;
    if (key.kind === 'close-dict') return { entries, end: lexer.pos };
    if (key.kind !== 'name') return null;
    const value = readValue(lexer);
    if (!value) return null;
    // The first occurrence wins, as in pdf-lib's parser; a repeated key cannot hide the first.
    if (!entries.has(key.name)) entries.set(key.name, value);
  }
}

function readValue(lexer: Lexer): PdfValue | null {
  const token = lexer.next();
  if (!token) return null;
  switch (token.kind) {
    case 'name':
      return { kind: 'name', name: token.name };
    case 'number':
      return readNumberOrRef(lexer, token.value);
    case 'open-array':
      return readArray(lexer);
    case 'open-dict':
      return skipNested(lexer, 1) ? { kind: 'other' } : null;
    case 'word':
    case 'string':
      return { kind: 'other' };
    default:
      return null;
  }
}

/** `12` or `12 0 R`: a lookahead of two tokens, undone when it is not a reference. */
function readNumberOrRef(lexer: Lexer, value: number): PdfValue {
  const mark = lexer.pos;
  const generation = lexer.next();
  if (generation?.kind === 'number') {
    const keyword = lexer.next();
    if (keyword?.kind === 'word' && keyword.word === 'R') return { kind: 'ref' };
  }
  lexer.pos = mark;
  return { kind: 'number', value };
}

/** An array of names (a filter chain) is kept; any other array is read past and reported as "other". */
function readArray(lexer: Lexer): PdfValue | null {
  const names: string[] = [];
  let onlyNames = true;
  for (;;) {
    const token = lexer.next();
    if (!token) return null;
    if (token.kind === 'close-array') return onlyNames ? { kind: 'names', names } : { kind: 'other' };
    if (token.kind === 'name') names.push(token.name);
    else onlyNames = false;
    if (token.kind === 'open-array' && !skipNested(lexer, 0, 1)) return null;
    if (token.kind === 'open-dict' && !skipNested(lexer, 1)) return null;
  }
}

function skipNested(lexer: Lexer, dicts: number, arrays = 0): boolean {
  while (dicts + arrays > 0) {
    const token = lexer.next();
    if (!token) return false;
    if (token.kind === 'open-dict') dicts += 1;
    else if (token.kind === 'close-dict') dicts -= 1;
    else if (token.kind === 'open-array') arrays += 1;
    else if (token.kind === 'close-array') arrays -= 1;
  }
  return true;
}

/** How far past a dictionary `streamDataStart` looks: the `stream` keyword after up to 1 KB of space and comments. */
export const STREAM_KEYWORD_REACH = 1024 + 8;
const STREAM = Buffer.from('stream', 'latin1');

/** Offset of the stream data when `stream` + end of line follows `at`, else null. */
export function streamDataStart(bytes: Buffer, at: number): number | null {
  const lexer = new Lexer(bytes, at, Math.min(bytes.length, at + 1024));
  lexer.skipSpaceAndComments();
  if (!bytes.subarray(lexer.pos, lexer.pos + STREAM.length).equals(STREAM)) return null;
  let pos = lexer.pos + 6;
  if (bytes[pos] === 0x0d) pos += 1;
  if (bytes[pos] === 0x0a) pos += 1;
  return pos;
}
