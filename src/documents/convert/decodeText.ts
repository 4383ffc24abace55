/**
 * Text attachments arrive in whatever encoding the sender's system used: UTF-8 (with or without a BOM), UTF-16 with
 * a BOM (Windows Notepad's "Unicode"), or a Windows code page. Bytes that are not valid UTF-8 are read as
 * windows-1252, the code page of most Western offices, which also covers ISO-8859-1.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return decodeWindows1252(body);
  }
}

/**
 * windows-1252 differs from ISO-8859-1 only in 0x80–0x9F (€, curly quotes, dashes). Node 20's TextDecoder decodes
 * the 'windows-1252' label as ISO-8859-1, turning those into invisible control characters, so they are mapped here.
 */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes)
    out += byte >= 0x80 && byte < 0xa0 ? CP1252_HIGH[byte - 0x80] : String.fromCharCode(byte);
  return out;
}

const TAB_WIDTH = 8;

/**
 * Splits text into pages of lines: form feeds start a new page, tabs expand to the next multiple of eight, long
 * lines wrap at `columns` (at a space when there is one in the last third of the line, else hard).
 */
export function layoutText(text: string, columns: number, linesPerPage: number): string[][] {
  const pages: string[][] = [];
  for (const section of text.replace(/\r\n?/g, '\n').split('\f')) {
    const lines: string[] = [];
    for (const line of section.split('\n')) lines.push(...wrapLine(expandTabs(line), columns));
    // A file ending in a newline has no extra empty line at its end.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    for (let i = 0; i < Math.max(lines.length, 1); i += linesPerPage)
      pages.push(lines.slice(i, i + linesPerPage));
  }
  // A trailing form feed (common in printouts) makes no blank last page.
  while (pages.length > 1 && pages[pages.length - 1]!.every((line) => line === '')) pages.pop();
  return pages;
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const char of line) {
    if (char === '\t') out += ' '.repeat(TAB_WIDTH - (out.length % TAB_WIDTH));
    else out += char;
  }
  return out;
}

function wrapLine(line: string, columns: number): string[] {
  const chars = [...line];
  if (chars.length <= columns) return [line];
  const out: string[] = [];
  let rest = chars;
  while (rest.length > columns) {
    let cut = columns;
    const space = rest.lastIndexOf(' ', columns);
    if (space > (columns * 2) / 3) cut = space + 1;
    out.push(rest.slice(0, cut).join('').trimEnd());
    rest = rest.slice(cut);
  }
  out.push(rest.join(''));
  return out;
}
