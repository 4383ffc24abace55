import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeDocumentSandbox } from '../../src/documents/sandbox/documentSandbox.js';
import { firstPagePng } from '../../src/documents/wire/firstPagePng.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/*
 * The preview in receipts and received-fax mails, drawn in a background child of the document sandbox (the
 * compiled child from dist/: `npm run build` first). Needs poppler-utils' pdftoppm, as the image has.
 */
const sandbox = makeDocumentSandbox();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-preview-test-'));
});
afterAll(async () => {
  sandbox.closeIdle();
  await rm(dir, { recursive: true, force: true });
});

describe('firstPagePng', () => {
  it("is pdftoppm's gray drawing of the first page, pixel for pixel, as a PNG", async () => {
    const pdf = await makePdf(3);
    const png = await firstPagePng(pdf, sandbox);
    expect(png?.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    // What pdftoppm draws by itself: the preview shows exactly that, whatever the PNG's compression.
    const path = join(dir, 'doc.pdf');
    await writeFile(path, pdf);
    const args = ['-gray', '-f', '1', '-l', '1', '-singlefile', '-scale-to', '850', path, join(dir, 'ref')];
    await promisify(execFile)('pdftoppm', args);
    const pgm = await readFile(join(dir, 'ref.pgm'));
    const [, width, height] = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 64).toString('latin1'))!;
    // IHDR: 8-bit gray, as pdftoppm drew it.
    expect([png![24], png![25]]).toEqual([8, 0]);
    const drawn = await sharp(png!).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([drawn.info.width, drawn.info.height, drawn.info.channels]).toEqual([
      Number(width),
      Number(height),
      1,
    ]);
    expect(drawn.data.equals(pgm.subarray(pgm.length - drawn.data.length))).toBe(true);
  });

  it('is null for a file that is not a PDF, and the mail goes without it', async () => {
    expect(await firstPagePng(Buffer.from('not a pdf at all'), sandbox)).toBeNull();
    expect(await firstPagePng(join(dir, 'missing.pdf'), sandbox)).toBeNull();
  });
});
