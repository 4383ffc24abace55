import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { makeLocalStorage } from '../../src/blobs/localStorage.js';
import { makePagePreviewer, PreviewError } from '../../src/console/pagePreview.js';
import { makeUrlSigner } from '../../src/lib/urlSigner.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/*
 * The console's page previews (docs/behaviour.md §12): a page drawn as a PNG, and a page that cannot be drawn
 * answered in words, never a bare server error, even where pdftoppm (or prlimit) is not installed.
 */
describe('console page previews', () => {
  let dir: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-page-preview-'));
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  async function storedPdf(pages: number) {
    const documents = makeLocalStorage({
      root: path.join(dir, 'documents'),
      publicUrl: () => 'http://127.0.0.1',
      signer: makeUrlSigner('a'.repeat(64)),
    });
    const source = path.join(dir, 'source.pdf');
    writeFileSync(source, await makePdf(pages));
    await documents.put('doc_1.pdf', source, 'application/pdf');
    return makePagePreviewer(documents, dir);
  }

  it('draws a page as a PNG, and says so when the page does not exist', async () => {
    const renderPage = await storedPdf(2);
    const png = await renderPage('doc_1.pdf', 2);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    await expect(renderPage('doc_1.pdf', 3)).rejects.toThrow(PreviewError);
  });

  it('without prlimit, draws with pdftoppm alone', async () => {
    const renderPage = await storedPdf(1);
    // A PATH that holds pdftoppm and nothing else.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync('/usr/bin/pdftoppm', path.join(bin, 'pdftoppm'));
    process.env.PATH = bin;
    const png = await renderPage('doc_1.pdf', 1);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('without pdftoppm, answers that the page could not be drawn', async () => {
    const renderPage = await storedPdf(1);
    process.env.PATH = path.join(dir, 'nothing-here');
    await expect(renderPage('doc_1.pdf', 1)).rejects.toThrow(new PreviewError('the page could not be drawn'));
  });
});
