import { deflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { checkPdfStructure } from '../../src/pdf/pdfStructure.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/* Object count and object-stream inflation limits, read from the raw bytes before pdf-lib parses (issue 7). */

/** A one-page PDF followed by `extra` filler objects. */
function manyObjects(extra: number): Buffer {
  const parts = [
    '%PDF-1.7\n',
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n',
    '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n',
  ];
  for (let i = 0; i < extra; i++) parts.push(`${i + 4} 0 obj\n<< /A [1 2 3] >>\nendobj\n`);
  parts.push(`trailer\n<< /Root 1 0 R /Size ${extra + 4} >>\n%%EOF\n`);
  return Buffer.from(parts.join(''));
}

/** A PDF whose one object stream inflates to `inflated` bytes of zeros (a compression bomb for pdf-lib). */
function objectStreamBomb(inflated: number): Buffer {
  const data = deflateSync(Buffer.alloc(inflated));
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from(
      `4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`,
    ),
    data,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

describe('checkPdfStructure', () => {
  it('passes ordinary PDFs, object streams included (pdf-lib saves with them)', async () => {
    expect(await checkPdfStructure(await makePdf(20))).toBeNull();
    expect(await checkPdfStructure(manyObjects(1000))).toBeNull();
  });

  it('refuses more objects than the limit, quickly', async () => {
    const big = manyObjects(150_000);
    const started = Date.now();
    expect(await checkPdfStructure(big)).toBe('has more than 100000 objects; it is too complex to fax');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(
      await checkPdfStructure(manyObjects(500), { maxObjects: 100, maxObjectStreamBytes: 1 << 20 }),
    ).toMatch(/more than 100 objects/);
  });

  it('refuses an object stream that inflates past the budget, without inflating it all', async () => {
    const bomb = objectStreamBomb(200 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(await checkPdfStructure(bomb)).toBe(
      'has compressed object streams that expand to more than 64 MB',
    );
    expect(await checkPdfStructure(objectStreamBomb(1024))).toBeNull();
  });

  it('counts every object exactly once across the 1 MB scanning windows', async () => {
    // About 40 bytes an object: 99,990 objects span ~4 MB, so many headers straddle a window edge.
    const limits = { maxObjects: 100_000, maxObjectStreamBytes: 64 * 1024 * 1024 };
    const justUnder = manyObjects(100_000 - 3);
    expect(justUnder.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(await checkPdfStructure(justUnder, limits)).toBeNull();
    expect(await checkPdfStructure(manyObjects(100_000 - 2), limits)).toBe(
      'has more than 100000 objects; it is too complex to fax',
    );
  });
});
