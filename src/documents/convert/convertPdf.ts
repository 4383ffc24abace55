import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PDFDocument } from 'pdf-lib';

import { QpdfUnavailableError, runQpdf } from '../qpdf.js';
import { withPdfLibWarningsRedirected } from '../redirectPdfLibWarnings.js';
import { ConvertError } from './convertErrors.js';
import { type ConvertOptions, type ConvertResult, DEFAULT_MAX_PAGES } from './convertOptions.js';
import { fitPdfPages } from './fitPdfPages.js';
import { flattenAnnotations } from './flattenAnnotations.js';

/**
 * A PDF as the sender attached it, made fit to fax: cut to start at `%PDF-` (Telnyx refuses a file with a PJL
 * header or BOM in front), form fields and annotations drawn into the pages, every page on the fax paper. The
 * page content itself is carried over untouched.
 *
 * A PDF with only an owner password (it opens without one: bank statements, e-signed documents) is decrypted with
 * qpdf first, because pdf-lib cannot read encrypted files. Without qpdf it is passed on trimmed but otherwise as
 * sent, which Telnyx accepts.
 */
const PDF_MAGIC = '%PDF-';
const PDF_WINDOW = 1024;
const ENCRYPTED_MESSAGE = /\bis encrypted\b/;

export async function convertPdf(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const raw = await readFile(inputPath);
  const offset = raw.subarray(0, PDF_WINDOW + PDF_MAGIC.length).indexOf(PDF_MAGIC, 0, 'latin1');
  if (offset === -1) throw new ConvertError('unreadable', 'is not a PDF (no %PDF- header)');
  const bytes = offset > 0 ? raw.subarray(offset) : raw;

  let doc = await tryLoad(bytes);
  if (doc === 'encrypted') {
    const decrypted = await decryptOwnerOnly(bytes, options.timeoutMs);
    if (!decrypted) {
      await writeFile(outputPath, bytes);
      return { pages: countPagesLoosely(bytes) };
    }
    doc = await tryLoad(decrypted);
    if (doc === 'encrypted') throw new ConvertError('unreadable', 'needs a password to open');
  }
  const pages = doc.getPageCount();
  if (pages === 0) throw new ConvertError('unreadable', 'has no pages');
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (pages > maxPages) throw new ConvertError('too_large', `has ${pages} pages, more than ${maxPages}`);
  try {
    flattenAnnotations(doc);
    fitPdfPages(doc, options.paper);
    await writeFile(outputPath, await doc.save({ useObjectStreams: false }));
  } catch (error) {
    throw new ConvertError('unreadable', 'cannot be read: its page structure is damaged', { cause: error });
  }
  return { pages };
}

async function tryLoad(bytes: Uint8Array): Promise<PDFDocument | 'encrypted'> {
  try {
    return await withPdfLibWarningsRedirected(undefined, () =>
      PDFDocument.load(bytes, { updateMetadata: false }),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (ENCRYPTED_MESSAGE.test(message)) return 'encrypted';
    throw new ConvertError('unreadable', 'cannot be read: it is damaged or not really a PDF', {
      cause: error,
    });
  }
}

/** The decrypted bytes, or null when qpdf is not installed. Throws when the file needs a password to open. */
async function decryptOwnerOnly(bytes: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
  const dir = await mkdtemp(join(tmpdir(), 'faxbridge-pdf-'));
  try {
    const input = join(dir, 'in.pdf');
    const output = join(dir, 'out.pdf');
    await writeFile(input, bytes);
    const result = await runQpdf(['--decrypt', input, output], timeoutMs);
    // Exit code 3 means warnings only: the output was written.
    if (result.exitCode !== 0 && result.exitCode !== 3) {
      throw new ConvertError(
        'unreadable',
        /password/i.test(result.stderr) ? 'needs a password to open' : 'cannot be read',
      );
    }
    return await readFile(output);
  } catch (error) {
    if (error instanceof QpdfUnavailableError) return null;
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Page count of a PDF pdf-lib cannot open: the /Count of its page tree root, else one page per /Type /Page. */
function countPagesLoosely(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
  return Math.max(1, pages);
}
