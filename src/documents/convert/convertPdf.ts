import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { PDFDocument } from 'pdf-lib';

import type { Logger } from '../../log.js';
import { loadPdf, tryCountPages } from '../loadPdf.js';
import { readPageTree } from '../pdfPageTree.js';
import { checkPdfStructure } from '../pdfStructure.js';
import { QpdfUnavailableError, runQpdf } from '../qpdf.js';
import { withPdfLibWarningsRedirected } from '../redirectPdfLibWarnings.js';
import { ConvertError } from './convertErrors.js';
import { type ConvertOptions, type ConvertResult, DEFAULT_MAX_PAGES } from './convertOptions.js';
import { fitPdfPages, pageFitsPaper } from './fitPdfPages.js';
import { flattenAnnotations, needsFlattening } from './flattenAnnotations.js';
import {
  PROBLEM_NEEDS_PASSWORD,
  PROBLEM_NO_PAGES,
  PROBLEM_UNREADABLE,
  tooComplex,
  tooManyPages,
} from './pdfRefusals.js';

/**
 * A PDF as the sender attached it, made fit to fax: cut to start at `%PDF-` (Telnyx refuses a file with a PJL
 * header or BOM in front), form fields and annotations drawn into the pages, every page on the fax paper. The
 * page content itself is carried over untouched; nothing is rasterised.
 *
 * It is also the check of the sender's PDF (the same checks as inspectPdf.ts, in its words: pdfRefusals.ts; one parse does both):
 * the raw structure within limits before pdf-lib sees it, the page tree walked before pdf-lib's own recursion is
 * trusted with it, pages counted and within the fax limit.
 *
 * A PDF that needs nothing (already on the paper, upright, nothing drawn on top of its pages) is not rewritten:
 * `written` is false and the sender's bytes are faxed as they are, which costs one parse and no save. A PDF with
 * only an owner password (it opens without one: bank statements, e-signed documents) is decrypted with qpdf
 * first, because pdf-lib cannot read encrypted files; without qpdf it is passed on trimmed but otherwise as sent,
 * `checked` false, for the daemon's own check to decide on.
 */
export interface PreparedPdf extends ConvertResult {
  /** False when the input needed no change and nothing was written to the output path. */
  written: boolean;
  /** False when the file could not be opened here (encrypted, qpdf missing): check it before faxing. */
  checked: boolean;
}

const PDF_MAGIC = '%PDF-';
const PDF_WINDOW = 1024;

export async function preparePdf(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions,
  log?: Logger,
): Promise<PreparedPdf> {
  const raw = await readFile(inputPath);
  const offset = raw.subarray(0, PDF_WINDOW + PDF_MAGIC.length).indexOf(PDF_MAGIC, 0, 'latin1');
  if (offset === -1) throw new ConvertError('unreadable', PROBLEM_UNREADABLE);
  let bytes: Buffer = offset > 0 ? raw.subarray(offset) : raw;

  let doc = await open(bytes, log);
  let decrypted = false;
  if (doc === 'encrypted') {
    const plain = await decryptOwnerOnly(bytes, options.timeoutMs, dirname(outputPath));
    if (!plain) {
      await writeFile(outputPath, bytes);
      return { pages: countPagesLoosely(bytes), written: true, checked: false };
    }
    bytes = plain;
    decrypted = true;
    doc = await open(bytes, log);
    if (doc === 'encrypted') throw new ConvertError('unreadable', PROBLEM_NEEDS_PASSWORD);
  }
  const pages = countPages(doc, options.maxPages ?? DEFAULT_MAX_PAGES);

  const work = needsWork(doc, options, log);
  if (!work && !decrypted) {
    if (offset === 0) return { pages, written: false, checked: true };
    await writeFile(outputPath, bytes);
    return { pages, written: true, checked: true };
  }
  try {
    const saved = await withPdfLibWarningsRedirected(log, async () => {
      if (work) {
        flattenAnnotations(doc);
        fitPdfPages(doc, options.paper);
      }
      // Classic cross-reference tables rather than object streams: the widest reader support for the fax renderer.
      return doc.save({ useObjectStreams: false });
    });
    await writeFile(outputPath, saved);
  } catch (error) {
    // The pages opened and were counted, so the file is a PDF; an oddity only the rewrite trips over (a damaged
    // annotation, a strange page box) is no reason to refuse it: it is faxed as sent, as before this step existed.
    log?.warn({ err: error }, 'PDF could not be flattened or fitted to the paper; faxed as sent');
    await writeFile(outputPath, bytes);
  }
  return { pages, written: true, checked: true };
}

/** preparePdf for converters' output (LibreOffice, Gotenberg): the output file is always written. */
export async function convertPdf(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions,
  log?: Logger,
): Promise<ConvertResult> {
  const prepared = await preparePdf(inputPath, outputPath, options, log);
  if (!prepared.written) await copyFile(inputPath, outputPath);
  return { pages: prepared.pages };
}

/** Structure check, then pdf-lib: a stranger's file never reaches pdf-lib's parser unchecked. */
async function open(bytes: Buffer, log: Logger | undefined): Promise<PDFDocument | 'encrypted'> {
  const problem = await checkPdfStructure(bytes);
  if (problem) throw new ConvertError('too_large', tooComplex(`it has ${problem}`));
  const loaded = await loadPdf(bytes, log);
  if (loaded.kind === 'encrypted') return 'encrypted';
  if (loaded.kind === 'unreadable') {
    throw new ConvertError('unreadable', PROBLEM_UNREADABLE, { cause: new Error(loaded.reason) });
  }
  return loaded.doc;
}

function countPages(doc: PDFDocument, maxPages: number): number {
  const tree = readPageTree(doc);
  if (tree.kind === 'too-complex') throw new ConvertError('too_large', tooComplex(`it has ${tree.detail}`));
  // pdf-lib loads some garbage without complaint and only fails on the page tree, so that decides too.
  const pages = tree.kind === 'pages' ? tryCountPages(doc) : null;
  if (pages === null) throw new ConvertError('unreadable', PROBLEM_UNREADABLE);
  if (pages === 0) throw new ConvertError('unreadable', PROBLEM_NO_PAGES);
  if (pages > maxPages) {
    throw new ConvertError('too_large', tooManyPages(pages, maxPages));
  }
  return pages;
}

/** True when some page is off the paper or turned, or carries something a fax would not print (forms, stamps). */
function needsWork(doc: PDFDocument, options: ConvertOptions, log: Logger | undefined): boolean {
  try {
    return doc.getPages().some((page) => !pageFitsPaper(page, options.paper) || needsFlattening(page));
  } catch (error) {
    // A page entry of the wrong type (pdf-lib throws on it): leave the file as it is rather than refuse it.
    log?.warn({ err: error }, 'PDF pages could not be examined for fitting; faxed as sent');
    return false;
  }
}

/** The decrypted bytes, or null when qpdf is not installed. Throws when the file needs a password to open. */
async function decryptOwnerOnly(
  bytes: Uint8Array,
  timeoutMs: number,
  workDir: string,
): Promise<Buffer | null> {
  // In the message's own work folder, which the daemon removes even when this child is killed: a decrypted copy
  // of the sender's document must not stay behind in /tmp.
  const dir = await mkdtemp(join(workDir, 'qpdf-'));
  try {
    const input = join(dir, 'in.pdf');
    const output = join(dir, 'out.pdf');
    await writeFile(input, bytes);
    const result = await runQpdf(['--decrypt', '--', input, output], timeoutMs);
    // Exit code 3 means warnings only: the output was written.
    if (result.exitCode !== 0 && result.exitCode !== 3) {
      throw new ConvertError(
        'unreadable',
        /password/i.test(result.stderr) ? PROBLEM_NEEDS_PASSWORD : PROBLEM_UNREADABLE,
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

/** Page count of a PDF pdf-lib cannot open: one per /Type /Page. Only a hint; the daemon checks such files. */
function countPagesLoosely(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
  return Math.max(1, pages);
}
