import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { convertTiff } from '../../src/documents/convert/convertTiff.js';
import { sniffDocumentFile } from '../../src/documents/convert/sniffDocumentKind.js';
import { makeFaxTiff, makeFixtureDir } from '../helpers/documentFixtures.js';
import { inkBox, pdfPages, renderPage } from '../helpers/renderPdf.js';

/*
 * Fax and scanner TIFFs: one fax page per TIFF page, on the paper, and the black-and-white pixels exactly as
 * scanned (checked by pulling the image back out of the PDF with poppler's pdfimages and comparing bits).
 */
let dir: string;
beforeAll(() => {
  dir = makeFixtureDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { paper: 'letter' as const, timeoutMs: 60_000 };

async function tiffPageBits(path: string, page: number): Promise<Buffer> {
  const { data } = await sharp(path, { page }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return data;
}

describe('convertTiff', () => {
  it('makes a 3-page G4 fax TIFF three Letter pages, each 1-bit image identical to the scan', async () => {
    const path = makeFaxTiff(dir, 3);
    expect(await sniffDocumentFile(path)).toEqual({ kind: 'tiff' });
    const output = join(dir, 'three.pdf');
    expect(await convertTiff(path, output, options)).toEqual({ pages: 3 });
    expect(pdfPages(output)).toEqual(Array(3).fill({ width: 612, height: 792, rotate: 0 }));

    const listing = execFileSync('pdfimages', ['-list', output], { encoding: 'utf8' });
    // Columns: page num type width height color comp bpc enc …
    const rows = listing
      .split('\n')
      .slice(2)
      .filter(Boolean)
      .map((line) => line.trim().split(/\s+/));
    expect(rows.map((row) => [row[3], row[4], row[5], row[7]])).toEqual(
      Array(3).fill(['1728', '2200', 'gray', '1']),
    );

    const extracted = join(dir, 'extracted');
    execFileSync('pdfimages', ['-png', output, extracted]);
    const files = readdirSync(dir)
      .filter((name) => name.startsWith('extracted'))
      .sort();
    expect(files).toHaveLength(3);
    for (const [page, file] of files.entries()) {
      const fromPdf = await sharp(join(dir, file)).extractChannel(0).raw().toBuffer();
      expect(fromPdf.equals(await tiffPageBits(path, page))).toBe(true);
    }
  });

  it('keeps a normal-resolution fax (204×98 dpi) in proportion: pixels twice as tall as wide', async () => {
    const output = join(dir, 'normal.pdf');
    await convertTiff(makeFaxTiff(dir, 1, '204x98'), output, options);
    // 1728×1100 pixels at 204×98 dpi is 8.47×11.2 in: portrait, so it fills the page height less the margins.
    const box = inkBox(renderPage(output, 1))!;
    expect(box.top).toBeLessThan(0.04);
    // The mark is 300×150 pixels: 1.47×1.53 in, nearly square on paper (it would be half as tall if squashed).
    const page = renderPage(output, 1, 72);
    const mark = inkBox(page)!;
    const widthIn = ((mark.right - mark.left) * page.width) / 72;
    const heightIn = ((mark.bottom - mark.top) * page.height) / 72;
    expect(heightIn / widthIn).toBeGreaterThan(0.9);
    expect(heightIn / widthIn).toBeLessThan(1.2);
  });

  it('puts each page in order: page n has n-1 bars', async () => {
    const output = join(dir, 'order.pdf');
    await convertTiff(makeFaxTiff(dir, 3), output, { ...options, paper: 'a4' });
    const bars = [1, 2, 3].map((n) => {
      const page = renderPage(output, n, 50);
      // Count dark runs down a column through the bars (they start at 600 of 1728 pixels across).
      const x = Math.round(page.width * 0.55);
      let runs = 0;
      let dark = false;
      for (let y = 0; y < page.height; y++) {
        const now = page.pixels[y * page.width + x]! < 96;
        if (now && !dark) runs++;
        dark = now;
      }
      return runs;
    });
    expect(bars).toEqual([0, 1, 2]);
  });

  it('refuses a TIFF with more pages than allowed', async () => {
    await expect(
      convertTiff(makeFaxTiff(dir, 3), join(dir, 'x.pdf'), { ...options, maxPages: 2 }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });
});
