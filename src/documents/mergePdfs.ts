import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { PDFDocument } from 'pdf-lib';

import { FaxError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadPdf, tryCountPages } from './loadPdf.js';
import { qpdfDecrypt } from './qpdf.js';

export interface MergedPdf {
  pages: number;
  size: number;
  sha256: string;
}

/**
 * Joins several PDFs into one fax document, pages in the order of `inputs` (the order they appeared in the mail).
 * The inputs are expected to have passed `inspectPdf`; the result is not checked against the fax limits here, the
 * caller compares `pages` and `size` (two 200-page PDFs are each fine and too many together).
 *
 * Owner-password-only inputs are decrypted with qpdf first (pdf-lib cannot read encrypted objects), so their pages
 * appear in the merged fax unencrypted and without their editing restrictions; faxing is printing, which such files
 * allow. Without qpdf such a merge fails with `bad_document`.
 *
 * Memory: pdf-lib copies pages by reference to the source buffers, which stay alive until the output is written,
 * and `save()` builds the whole output in memory: peak is about twice the sum of the inputs.
 */
export async function mergePdfs(inputs: string[], outPath: string, log?: Logger): Promise<MergedPdf> {
  if (inputs.length === 0) throw new FaxError('internal', 'mergePdfs needs at least one PDF');
  try {
    const merged = await PDFDocument.create();
    for (const [index, input] of inputs.entries()) {
      const source = await openForMerge(
        input,
        `${outPath}.decrypted-${index + 1}.pdf`,
        describe(index, inputs),
        log,
      );
      const pages = await merged.copyPages(source, source.getPageIndices());
      for (const page of pages) merged.addPage(page);
    }
    // Classic cross-reference tables rather than object streams: the widest reader support for the fax renderer.
    const bytes = await merged.save({ useObjectStreams: false });
    await writeFile(outPath, bytes);
    return {
      pages: merged.getPageCount(),
      size: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  } catch (error) {
    await rm(outPath, { force: true });
    if (error instanceof FaxError) throw error;
    throw new FaxError('bad_document', `the PDFs could not be combined into one fax (${String(error)})`, {
      smtpCode: 554,
      enhancedCode: '5.6.0',
      cause: error,
    });
  }
}

async function openForMerge(
  path: string,
  scratchPath: string,
  label: string,
  log?: Logger,
): Promise<PDFDocument> {
  const loaded = await loadPdf(await readFile(path), log);
  // pdf-lib loads some garbage without complaint and only fails on the page tree, so that is checked here too.
  if (loaded.kind === 'loaded' && !tryCountPages(loaded.doc))
    throw unreadable(label, 'no readable page tree');
  if (loaded.kind === 'loaded') return loaded.doc;
  if (loaded.kind === 'unreadable') throw unreadable(label, loaded.reason);
  try {
    await qpdfDecrypt(resolve(path), resolve(scratchPath));
    // The bytes are in memory after readFile, so the decrypted copy can go at once.
    const decrypted = await loadPdf(await readFile(scratchPath), log);
    if (decrypted.kind !== 'loaded' || !tryCountPages(decrypted.doc)) {
      throw unreadable(label, 'still unreadable after decryption');
    }
    return decrypted.doc;
  } catch (error) {
    if (error instanceof FaxError) throw error;
    throw new FaxError('bad_document', `${label} is encrypted and could not be opened for merging`, {
      smtpCode: 554,
      enhancedCode: '5.6.0',
      cause: error,
    });
  } finally {
    await rm(scratchPath, { force: true });
  }
}

function unreadable(label: string, reason: string): FaxError {
  return new FaxError('bad_document', `${label} is damaged or not a PDF (cannot be read)`, {
    smtpCode: 554,
    enhancedCode: '5.6.0',
    cause: new Error(reason),
  });
}

function describe(index: number, inputs: string[]): string {
  return `PDF ${index + 1} of ${inputs.length}`;
}
