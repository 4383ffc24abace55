import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertText } from '../../src/documents/convert/convertText.js';
import { sniffDocumentFile } from '../../src/documents/convert/sniffDocumentKind.js';
import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { pdfPages, pdfText } from '../helpers/renderPdf.js';

/* Text attachments printed monospaced: what the sender typed, in their language, wrapped, paged at form feeds. */
let dir: string;
beforeAll(() => {
  dir = makeFixtureDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { paper: 'letter' as const, timeoutMs: 60_000 };

async function convert(name: string, bytes: Buffer | string, paper: 'letter' | 'a4' = 'letter') {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  expect(await sniffDocumentFile(path)).toEqual({ kind: 'text' });
  const output = `${path}.pdf`;
  const result = await convertText(path, output, { ...options, paper });
  return { result, output, text: pdfText(output) };
}

describe('convertText', () => {
  it('prints UTF-8 with accents, Greek and Cyrillic as written, and marks what the font lacks with "?"', async () => {
    const { result, output, text } = await convert(
      'note.txt',
      'Grüße aus Köln — 5 €\nΚαλημέρα, Здравствуйте\nCJK: 中文\n',
    );
    expect(result.pages).toBe(1);
    expect(pdfPages(output)).toEqual([{ width: 612, height: 792, rotate: 0 }]);
    expect(text).toContain('Grüße aus Köln — 5 €');
    expect(text).toContain('Καλημέρα, Здравствуйте');
    expect(text).toContain('CJK: ??');
  });

  it('reads Windows Notepad UTF-16 and legacy windows-1252 text', async () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('Notepad sagt Grüezi\r\n', 'utf16le'),
    ]);
    expect((await convert('unicode.txt', utf16)).text).toContain('Notepad sagt Grüezi');
    const cp1252 = Buffer.from([...Buffer.from('Caf', 'latin1'), 0xe9, 0x20, 0x80, 0x35]);
    expect((await convert('legacy.txt', cp1252)).text).toContain('Café €5');
  });

  it('starts a new page at each form feed and wraps long lines instead of cutting them', async () => {
    const long = `${'word '.repeat(60)}END`;
    const { result, output, text } = await convert(
      'report.txt',
      `first page\n${long}\n\fsecond page\n\f`,
      'a4',
    );
    expect(result.pages).toBe(2);
    expect(pdfPages(output)).toHaveLength(2);
    expect(text).toContain('END');
    expect(text.split('\f')[1]).toContain('second page');
  });

  it('spreads a long listing over as many pages as it needs', async () => {
    const lines = Array.from({ length: 130 }, (_, i) => `line ${i + 1}`).join('\n');
    const { result, text } = await convert('listing.txt', lines);
    // 60 lines fit a Letter page between half-inch margins at 12 pt spacing.
    expect(result.pages).toBe(3);
    expect(text).toContain('line 130');
  });
});
