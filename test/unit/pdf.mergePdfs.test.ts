import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { inspectPdf } from '../../src/documents/inspectPdf.js';
import { mergePdfs } from '../../src/documents/mergePdfs.js';
import { FaxError } from '../../src/errors.js';
import { encryptPdf, garbagePdf, makePdf, readPageLabels, skipWithoutQpdf } from '../helpers/pdfFixtures.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-merge-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(bytes: Buffer, name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('mergePdfs', () => {
  it('joins the pages in the order given and reports pages, size and sha256 of the result', async () => {
    const inputs = [
      await fileWith(await makePdf(2, { label: 'b' }), 'b.pdf'),
      await fileWith(await makePdf(1, { label: 'a' }), 'a.pdf'),
      await fileWith(await makePdf(3, { label: 'c' }), 'c.pdf'),
    ];
    const out = join(dir, 'fax.pdf');
    const merged = await mergePdfs(inputs, out);
    const bytes = await readFile(out);
    expect(merged).toEqual({
      pages: 6,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(await readPageLabels(bytes)).toEqual(['b:1', 'b:2', 'a:1', 'c:1', 'c:2', 'c:3']);
    expect(await inspectPdf(out)).toEqual({ ok: true, pages: 6, encrypted: 'none' });
  });

  it('fails with bad_document naming the input, and leaves no output behind', async () => {
    const inputs = [await fileWith(await makePdf(1), 'a.pdf'), await fileWith(garbagePdf(), 'b.pdf')];
    const out = join(dir, 'fax.pdf');
    const error = await mergePdfs(inputs, out).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(FaxError);
    expect(error).toMatchObject({
      code: 'bad_document',
      message: 'PDF 2 of 2 is damaged or not a PDF (cannot be read)',
    });
    expect((await readdir(dir)).sort()).toEqual(['a.pdf', 'b.pdf']);
  });

  it.skipIf(skipWithoutQpdf)('merges an owner-password-only PDF by decrypting it first', async () => {
    const restricted = await encryptPdf(await makePdf(2, { label: 'r' }), {
      userPassword: '',
      ownerPassword: 'owner',
    });
    const inputs = [
      await fileWith(await makePdf(1, { label: 'a' }), 'a.pdf'),
      await fileWith(restricted, 'r.pdf'),
    ];
    const out = join(dir, 'fax.pdf');
    expect(await mergePdfs(inputs, out)).toMatchObject({ pages: 3 });
    expect(await readPageLabels(await readFile(out))).toEqual(['a:1', 'r:1', 'r:2']);
    // The decrypted scratch copy is gone.
    expect((await readdir(dir)).sort()).toEqual(['a.pdf', 'fax.pdf', 'r.pdf']);
  });

  it.skipIf(skipWithoutQpdf)('refuses to merge a PDF that needs a password', async () => {
    const locked = await encryptPdf(await makePdf(1), { userPassword: 'user', ownerPassword: 'owner' });
    const inputs = [await fileWith(await makePdf(1), 'a.pdf'), await fileWith(locked, 'l.pdf')];
    const error = await mergePdfs(inputs, join(dir, 'fax.pdf')).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: 'bad_document',
      message: 'PDF 2 of 2 is encrypted and could not be opened for merging',
    });
    expect((await readdir(dir)).sort()).toEqual(['a.pdf', 'l.pdf']);
  });
});
