import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { checkPdfStructure } from '../../src/documents/pdfStructure.js';
import {
  contentStreamBombPdf,
  makePdf,
  manyObjectsPdf,
  millionsOfObjectsPdf,
  objectStreamBombPdf,
  overlappingStreamsPdf,
  twoLayerObjectStreamPdf,
} from '../helpers/pdfFixtures.js';

/* Object count and object-stream inflation limits, read from the raw bytes before pdf-lib parses. */

const dir = mkdtempSync(path.join(tmpdir(), 'fb-structure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same bytes as a file, which the check reads a window at a time (as the document sandbox gives it). */
function asFile(bytes: Buffer): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.pdf`);
  writeFileSync(file, bytes);
  return file;
}

describe('checkPdfStructure', () => {
  it('passes ordinary PDFs, object streams included (pdf-lib saves with them)', async () => {
    expect(await checkPdfStructure(await makePdf(20))).toBeNull();
    expect(await checkPdfStructure(manyObjectsPdf(1000))).toBeNull();
  });

  it('refuses more objects than the limit', async () => {
    const big = manyObjectsPdf(150_000);
    expect(await checkPdfStructure(big)).toBe('more than 100000 objects');
    expect(
      await checkPdfStructure(manyObjectsPdf(500), { maxObjects: 100, maxObjectStreamBytes: 1 << 20 }),
    ).toMatch(/more than 100 objects/);
  });

  it('refuses an object stream that inflates past the budget, without inflating it all', async () => {
    const bomb = objectStreamBombPdf(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(await checkPdfStructure(bomb)).toBe('compressed object streams that expand to more than 64 MB');
    expect(await checkPdfStructure(objectStreamBombPdf(1024))).toBeNull();
  });

  it('counts every object exactly once across the 1 MB scanning windows', async () => {
    // About 40 bytes an object: 99,990 objects span ~4 MB, so many headers straddle a window edge.
    const limits = { maxObjects: 100_000, maxObjectStreamBytes: 64 * 1024 * 1024 };
    const justUnder = manyObjectsPdf(100_000 - 3);
    expect(justUnder.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(await checkPdfStructure(justUnder, limits)).toBeNull();
    expect(await checkPdfStructure(manyObjectsPdf(100_000 - 2), limits)).toBe('more than 100000 objects');
  });

  it('undoes every Flate layer of an object stream, not only the first', async () => {
    // The first layer is only ~2 MB; the second expands to 2 GB (the outside testers' 4 KB PDF).
    expect(await checkPdfStructure(await twoLayerObjectStreamPdf())).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
  });

  it('reads names the way readers do: /Obj#53tm is /ObjStm and /Fl#61teDecode is /FlateDecode', async () => {
    expect(await checkPdfStructure(await twoLayerObjectStreamPdf({ escapedNames: true }))).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
  });

  it('reads the whole dictionary, however far the keys are from the object header', async () => {
    const bomb = await twoLayerObjectStreamPdf();
    // 8 KB of comment and padding between `4 0 obj` and the dictionary's keys, which the old check never reached.
    const padded = Buffer.from(
      bomb.toString('latin1').replace('4 0 obj\n<< ', `4 0 obj\n<< /Pad (${'x'.repeat(8192)}) `),
      'latin1',
    );
    expect(await checkPdfStructure(padded)).toBe('compressed object streams that expand to more than 64 MB');
  });

  it('caps what any one stream expands to, content streams included', async () => {
    expect(await checkPdfStructure(await contentStreamBombPdf())).toBe(
      'a compressed stream that expands to more than 256 MB',
    );
    expect(
      await checkPdfStructure(await contentStreamBombPdf(), { maxStreamBytes: 4096 * 1024 * 1024 }),
    ).toBe('compressed data that expands to more than 1024 MB');
  });

  it('measures one Flate layer only where the file is large enough for it to cross a limit', async () => {
    // Deflate expands at most 1032 times: a file under 256 MB / 1032 (~254 KB) cannot hold a stream past 256 MB.
    const under = await contentStreamBombPdf(192 * 1024 * 1024, 1);
    expect(under.length).toBeLessThan((256 * 1024 * 1024) / 1032);
    expect(await checkPdfStructure(under)).toBeNull();
    const over = await contentStreamBombPdf(272 * 1024 * 1024, 1);
    expect(over.length).toBeGreaterThan((256 * 1024 * 1024) / 1032);
    expect(await checkPdfStructure(over)).toBe('a compressed stream that expands to more than 256 MB');
    expect(await checkPdfStructure(asFile(over))).toBe(
      'a compressed stream that expands to more than 256 MB',
    );
  });

  it('measures streams that share their bytes, however small the file', async () => {
    // Nine streams, each hiding the next one's header in its data, all ending in the same 128 MB bomb.
    const pdf = overlappingStreamsPdf();
    expect(pdf.length).toBeLessThan((256 * 1024 * 1024) / 1032);
    expect(await checkPdfStructure(pdf)).toBe('compressed data that expands to more than 1024 MB');
  });

  it('counts the objects an object stream declares', async () => {
    expect(await checkPdfStructure(millionsOfObjectsPdf())).toBe('more than 100000 objects');
  });

  it('reads a file on disk window by window with the same verdicts as its bytes', async () => {
    const limits = { maxObjects: 100_000, maxObjectStreamBytes: 64 * 1024 * 1024 };
    expect(await checkPdfStructure(asFile(manyObjectsPdf(100_000 - 3)), limits)).toBeNull();
    expect(await checkPdfStructure(asFile(manyObjectsPdf(100_000 - 2)), limits)).toBe(
      'more than 100000 objects',
    );
    expect(await checkPdfStructure(asFile(await twoLayerObjectStreamPdf()))).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
    expect(await checkPdfStructure(asFile(await contentStreamBombPdf()))).toBe(
      'a compressed stream that expands to more than 256 MB',
    );
    expect(await checkPdfStructure(asFile(await makePdf(20)))).toBeNull();
  });

  it('finds a bomb whose dictionary starts just before a 1 MB window ends and closes after it', async () => {
    const bomb = await twoLayerObjectStreamPdf();
    const at = bomb.indexOf('4 0 obj');
    // Padding before the object puts its header a few bytes before the first window's end.
    const pad = 1024 * 1024 - at - 12;
    const shifted = Buffer.concat([bomb.subarray(0, at), Buffer.alloc(pad, 0x20), bomb.subarray(at)]);
    expect(await checkPdfStructure(asFile(shifted))).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
  });

  it('finds object headers with comments between their parts, as pdf-lib reads them', async () => {
    const bomb = await twoLayerObjectStreamPdf();
    const commented = Buffer.from(
      bomb.toString('latin1').replace('4 0 obj', '4 % the number\n0 %and the generation\r\nobj'),
      'latin1',
    );
    expect(commented.includes('4 % the number')).toBe(true);
    expect(await checkPdfStructure(commented)).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
  });
});
