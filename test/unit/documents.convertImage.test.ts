import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConvertError } from '../../src/documents/convert/convertErrors.js';
import { convertImage } from '../../src/documents/convert/convertImage.js';
import type { ImageFormat } from '../../src/documents/convert/documentKind.js';
import { sniffDocumentFile } from '../../src/documents/convert/sniffDocumentKind.js';
import {
  makeExifRotatedJpeg,
  makeFixtureDir,
  makeHeic,
  makeMarkedImage,
  makeTransparentPng,
} from '../helpers/documentFixtures.js';
import { inkBox, inkShare, pdfPages, renderPage } from '../helpers/renderPdf.js';

/*
 * Photos and pictures as a recipient sees them on the fax: one page of the configured paper, portrait, the picture
 * upright and whole inside the margin, transparency printed as white paper.
 */
const LETTER = { width: 612, height: 792 };
const A4 = { width: 595.28, height: 841.89 };
const options = { paper: 'letter' as const, timeoutMs: 60_000 };

let dir: string;
beforeAll(() => {
  dir = makeFixtureDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function convert(path: string, paper: 'letter' | 'a4' = 'letter') {
  const kind = await sniffDocumentFile(path);
  expect(kind.kind).toBe('image');
  const format = (kind as { format: ImageFormat }).format;
  const output = `${path}.pdf`;
  const result = await convertImage(path, output, { ...options, paper, format });
  return { result, output };
}

describe('convertImage', () => {
  it('turns a phone photo with EXIF orientation 6 upright: the mark is top-left on a portrait Letter page', async () => {
    const { result, output } = await convert(makeExifRotatedJpeg(dir));
    expect(result.pages).toBe(1);
    expect(pdfPages(output)).toEqual([{ ...LETTER, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.08);
    expect(box.top).toBeLessThan(0.06);
    expect(box.right).toBeLessThan(0.3);
    expect(box.bottom).toBeLessThan(0.25);
  });

  it('prints a transparent PNG on white paper', async () => {
    const { output } = await convert(makeTransparentPng(dir));
    const page = renderPage(output, 1);
    expect(inkShare(page)).toBeLessThan(0.1);
    expect(inkBox(page)!.top).toBeLessThan(0.06);
  });

  it('turns a landscape picture upright: its top edge along the left side, nothing cut off', async () => {
    const { output } = await convert(makeMarkedImage(dir, 'wide.png', 800, 400));
    expect(pdfPages(output)).toEqual([{ ...LETTER, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1))!;
    // Turned, the picture is 378×756 pt, centred: 117 pt from the left edge, 18 pt from the bottom. Its top-left
    // corner, the mark, sits at the bottom-left of that area.
    expect(box.left).toBeGreaterThan(0.17);
    expect(box.left).toBeLessThan(0.21);
    expect(box.top).toBeGreaterThan(0.7);
    expect(box.bottom).toBeGreaterThan(0.95);
    expect(box.bottom).toBeLessThan(0.99);
  });

  it.each([
    ['GIF', 'picture.gif', []],
    ['BMP (palette, as ImageMagick writes a two-colour picture)', 'picture.bmp', []],
    ['BMP (24-bit)', 'picture24.bmp', ['-type', 'TrueColor']],
    ['WebP', 'picture.webp', []],
  ])('converts %s to one upright A4 page', async (_label, name, extra) => {
    const { result, output } = await convert(makeMarkedImage(dir, name, 300, 400, extra), 'a4');
    expect(result.pages).toBe(1);
    expect(pdfPages(output)).toEqual([{ ...A4, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.08);
    expect(box.top).toBeLessThan(0.08);
    expect(box.right).toBeLessThan(0.3);
  });

  it('decodes an iPhone HEIC photo (heic-decode: sharp has no HEVC decoder)', async () => {
    const path = makeHeic(dir);
    expect(await sniffDocumentFile(path)).toEqual({ kind: 'image', format: 'heic' });
    const { output } = await convert(path);
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.08);
    expect(box.top).toBeLessThan(0.06);
  });

  it('refuses a picture too large to decode safely, naming the problem', async () => {
    // A PNG header claiming 20000×20000 pixels (400 megapixels, a classic decompression bomb) over a tiny body.
    const path = join(dir, 'bomb.png');
    writeFileSync(path, pngHeaderOnly(20_000, 20_000));
    await expect(convertImage(path, `${path}.pdf`, { ...options, format: 'png' })).rejects.toMatchObject({
      code: 'too_large',
    });
  });

  it('calls a damaged image unreadable', async () => {
    const path = join(dir, 'broken.jpg');
    writeFileSync(path, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]));
    const error = await convertImage(path, `${path}.pdf`, { ...options, format: 'jpeg' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvertError);
    expect((error as ConvertError).code).toBe('unreadable');
  });
});

/** A valid PNG signature, IHDR and a small IDAT: enough for a decoder to read the claimed size. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
