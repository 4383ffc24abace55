import { describe, expect, it } from 'vitest';

import { checkPdfStructure } from '../../src/documents/pdfStructure.js';
import { makePdf, manyObjectsPdf, objectStreamBombPdf } from '../helpers/pdfFixtures.js';

/* Object count and object-stream inflation limits, read from the raw bytes before pdf-lib parses (issue 7). */

describe('checkPdfStructure', () => {
  it('passes ordinary PDFs, object streams included (pdf-lib saves with them)', async () => {
    expect(await checkPdfStructure(await makePdf(20))).toBeNull();
    expect(await checkPdfStructure(manyObjectsPdf(1000))).toBeNull();
  });

  it('refuses more objects than the limit, quickly', async () => {
    const big = manyObjectsPdf(150_000);
    const started = Date.now();
    expect(await checkPdfStructure(big)).toBe('more than 100000 objects');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(
      await checkPdfStructure(manyObjectsPdf(500), { maxObjects: 100, maxObjectStreamBytes: 1 << 20 }),
    ).toMatch(/more than 100 objects/);
  });

  it('refuses an object stream that inflates past the budget, without inflating it all', async () => {
    const bomb = objectStreamBombPdf(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(await checkPdfStructure(bomb)).toBe(
      'compressed object streams that expand to more than 64 MB',
    );
    expect(await checkPdfStructure(objectStreamBombPdf(1024))).toBeNull();
  });

  it('counts every object exactly once across the 1 MB scanning windows', async () => {
    // About 40 bytes an object: 99,990 objects span ~4 MB, so many headers straddle a window edge.
    const limits = { maxObjects: 100_000, maxObjectStreamBytes: 64 * 1024 * 1024 };
    const justUnder = manyObjectsPdf(100_000 - 3);
    expect(justUnder.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(await checkPdfStructure(justUnder, limits)).toBeNull();
    expect(await checkPdfStructure(manyObjectsPdf(100_000 - 2), limits)).toBe(
      'more than 100000 objects',
    );
  });
});
