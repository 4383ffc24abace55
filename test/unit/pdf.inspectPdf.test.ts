import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { inspectPdf } from '../../src/documents/inspectPdf.js';
import { makeLogger } from '../../src/log.js';
import { encryptPdf, garbagePdf, makePdf, skipWithoutQpdf, truncatePdf } from '../helpers/pdfFixtures.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-inspect-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(bytes: Buffer, name = 'doc.pdf'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('inspectPdf', () => {
  it('counts the pages of a good PDF', async () => {
    expect(await inspectPdf(await fileWith(await makePdf(3)))).toEqual({
      ok: true,
      pages: 3,
      encrypted: 'none',
    });
  });

  it('refuses more pages than the limit, saying how many and the most allowed', async () => {
    const path = await fileWith(await makePdf(12));
    expect(await inspectPdf(path, { maxPages: 10 })).toEqual({
      ok: false,
      problem: 'has 12 pages; the most a fax can carry is 10',
    });
    expect(await inspectPdf(path, { maxPages: 12 })).toMatchObject({ ok: true, pages: 12 });
  });

  it('accepts 350 pages and refuses 351 by default', async () => {
    expect(await inspectPdf(await fileWith(await makePdf(350)))).toMatchObject({ ok: true, pages: 350 });
    expect(await inspectPdf(await fileWith(await makePdf(351), 'b.pdf'))).toEqual({
      ok: false,
      problem: 'has 351 pages; the most a fax can carry is 350',
    });
  });

  it('refuses a file over the size limit without reading it, rounding its size up', async () => {
    const path = await fileWith(await makePdf(1, { padBytes: 2 * 1024 * 1024 }));
    expect(await inspectPdf(path, { maxBytes: 2 * 1024 * 1024 })).toEqual({
      ok: false,
      problem: 'is 2.1 MB; the most a fax can carry is 2 MB',
    });
  });

  it('passes a 50 MB PDF at the default limit', async () => {
    const path = await fileWith(await makePdf(2, { padBytes: 50 * 1024 * 1024 - 20_000 }));
    expect(await inspectPdf(path)).toEqual({ ok: true, pages: 2, encrypted: 'none' });
  });

  it.each([
    ['a truncated download', async () => truncatePdf(await makePdf(4))],
    ['a %PDF- header followed by garbage', async () => garbagePdf()],
    ['an HTML page named .pdf', async () => Buffer.from('<html><body>404 Not Found</body></html>')],
    ['an empty file', async () => Buffer.alloc(0)],
  ])('calls %s damaged, and keeps pdf-lib off the console', async (_name, make) => {
    const warn = vi.spyOn(console, 'warn');
    const path = await fileWith(await make());
    expect(await inspectPdf(path)).toEqual({
      ok: false,
      problem: 'is damaged or not a PDF (cannot be read)',
    });
    expect(warn).not.toHaveBeenCalled();
  });

  it('sends pdf-lib parser warnings to the logger at debug level', async () => {
    const lines: string[] = [];
    const log = makeLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const warn = vi.spyOn(console, 'warn');
    await inspectPdf(await fileWith(truncatePdf(await makePdf(4))), {}, log);
    expect(warn).not.toHaveBeenCalled();
    expect(
      lines.some((line) => JSON.parse(line).pdfLibWarning?.startsWith('Trying to parse invalid object')),
    ).toBe(true);
  });

  it.skipIf(skipWithoutQpdf)('refuses a PDF that needs a password to open', async () => {
    const locked = await encryptPdf(await makePdf(2), { userPassword: 'user', ownerPassword: 'owner' });
    expect(await inspectPdf(await fileWith(locked))).toEqual({
      ok: false,
      problem: 'needs a password to open',
    });
  });

  it.skipIf(skipWithoutQpdf)('accepts an owner-password-only PDF and still counts its pages', async () => {
    const restricted = await encryptPdf(await makePdf(5), { userPassword: '', ownerPassword: 'owner' });
    expect(await inspectPdf(await fileWith(restricted))).toEqual({
      ok: true,
      pages: 5,
      encrypted: 'owner-only',
    });
    expect(await inspectPdf(await fileWith(restricted, 'b.pdf'), { maxPages: 4 })).toEqual({
      ok: false,
      problem: 'has 5 pages; the most a fax can carry is 4',
    });
  });

  it.skipIf(skipWithoutQpdf)('refuses an encrypted PDF it cannot check because qpdf is missing', async () => {
    const restricted = await encryptPdf(await makePdf(1), { userPassword: '', ownerPassword: 'owner' });
    const path = await fileWith(restricted);
    const savedPath = process.env.PATH;
    process.env.PATH = dir; // an empty folder: no qpdf to be found
    try {
      expect(await inspectPdf(path)).toEqual({
        ok: false,
        problem: 'is encrypted and could not be checked on this server',
      });
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
