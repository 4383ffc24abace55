import { readFile, writeFile } from 'node:fs/promises';

import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, type PDFFont, rgb, StandardFonts } from 'pdf-lib';

import { ConvertError } from './convertErrors.js';
import { type ConvertOptions, type ConvertResult, DEFAULT_MAX_PAGES } from './convertOptions.js';
import { decodeText, layoutText } from './decodeText.js';
import { PAPER_SIZES } from './paper.js';

/**
 * A text attachment printed the way a terminal or a line printer shows it: monospaced, 10 pt, half-inch margins,
 * long lines wrapped, form feeds starting new pages.
 *
 * The font is DejaVu Sans Mono (Debian's fonts-dejavu-core), embedded as a subset so that accented letters, Greek,
 * Cyrillic, currency signs and box drawing print as written. Characters it has no glyph for (Chinese, Japanese,
 * emoji) are printed as "?", visibly, rather than dropped. Without the font file, Courier (built into every PDF
 * reader, Latin-1 only) is used with the same replacement.
 */
export const MONO_FONT_PATH = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';

const FONT_SIZE = 10;
const LINE_HEIGHT = 12;
const MARGIN = 36;
const REPLACEMENT = '?';

export async function convertText(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions & { fontPath?: string },
): Promise<ConvertResult> {
  const text = decodeText(await readFile(inputPath));
  const doc = await PDFDocument.create();
  const font = await embedMonoFont(doc, options.fontPath ?? MONO_FONT_PATH);
  const paper = PAPER_SIZES[options.paper];
  const columns = Math.floor((paper.width - 2 * MARGIN) / font.widthOfTextAtSize('M', FONT_SIZE));
  const linesPerPage = Math.floor((paper.height - 2 * MARGIN) / LINE_HEIGHT);
  const pages = layoutText(text, columns, linesPerPage);
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (pages.length > maxPages) {
    throw new ConvertError('too_large', `the text makes ${pages.length} pages, more than ${maxPages}`);
  }
  const printable = new Set(font.getCharacterSet());
  for (const lines of pages) {
    const page = doc.addPage([paper.width, paper.height]);
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      page.drawText(printableText(line, printable), {
        x: MARGIN,
        y: paper.height - MARGIN - FONT_SIZE - index * LINE_HEIGHT,
        size: FONT_SIZE,
        font,
        color: rgb(0, 0, 0),
      });
    });
  }
  await writeFile(outputPath, await doc.save());
  return { pages: pages.length };
}

async function embedMonoFont(doc: PDFDocument, path: string): Promise<PDFFont> {
  let bytes: Buffer | null = null;
  try {
    bytes = await readFile(path);
  } catch {
    // No DejaVu on this machine: fall back to Courier below.
  }
  if (!bytes) return doc.embedFont(StandardFonts.Courier);
  doc.registerFontkit(fontkit);
  return doc.embedFont(bytes, { subset: true });
}

/** Replaces what the font cannot draw, and control characters, with a visible "?" of the same width. */
function printableText(line: string, printable: ReadonlySet<number>): string {
  let out = '';
  for (const char of line) {
    const code = char.codePointAt(0)!;
    out += code >= 0x20 && printable.has(code) ? char : REPLACEMENT;
  }
  return out;
}
