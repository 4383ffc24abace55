import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { withTimeLimit } from '../lib/timeLimit.js';
import { MB, SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import { type LoadedPdf, loadPdf, tryCountPages } from './loadPdf.js';
import { hasPdfMagic } from './pdfMagic.js';
import { checkPdfStructure } from './pdfStructure.js';
import { qpdfPageCount, qpdfPasswordRequirement, QpdfUnavailableError } from './qpdf.js';

/**
 * Decides whether a PDF can be faxed: it opens without a password, has pages, and fits Telnyx's limits
 * (50 MB / 350 pages, telnyx-fax-api.md). `problem` is written for the sender and follows the file name in the
 * reply: "invoice.pdf needs a password to open".
 */
export type PdfInspection =
  { ok: true; pages: number; encrypted: 'none' | 'owner-only' } | { ok: false; problem: string };

export interface PdfLimits {
  maxPages?: number;
  maxBytes?: number;
}

export const FAX_MAX_PAGES = 350;
export const FAX_MAX_BYTES = 50 * MB;

export const PROBLEM_NEEDS_PASSWORD = 'needs a password to open';
export const PROBLEM_UNREADABLE = 'is damaged or not a PDF (cannot be read)';
export const PROBLEM_NO_PAGES = 'has no pages';
export const PROBLEM_ENCRYPTED_UNCHECKED = 'is encrypted and could not be checked on this server';
export const PROBLEM_TOO_SLOW = 'took too long to read; it is too complex to fax';
/** pdf-lib yields every 100 objects, so a slow parse never stalls other sessions; this bounds the wait for it. */
const PARSE_TIME_LIMIT = 60 * SECOND;

export async function inspectPdf(path: string, limits: PdfLimits = {}, log?: Logger): Promise<PdfInspection> {
  const maxPages = limits.maxPages ?? FAX_MAX_PAGES;
  const maxBytes = limits.maxBytes ?? FAX_MAX_BYTES;

  // Size first, from the file system: an oversized file is refused without reading it into memory.
  const { size } = await stat(path);
  if (size > maxBytes)
    return refuse(`is ${formatMegabytesUp(size)}; the most a fax can carry is ${formatMegabytes(maxBytes)}`);

  // Read once; pdf-lib parses in place (its streams are views into this buffer), so peak memory is about the file.
  const bytes = await readFile(path);
  if (!hasPdfMagic(bytes)) return refuse(PROBLEM_UNREADABLE);
  // Object count and object-stream inflation, from the raw bytes, before pdf-lib builds anything (issue 7).
  const structure = await checkPdfStructure(bytes);
  if (structure) return refuse(structure);

  const loaded = await withTimeLimit<LoadedPdf | { kind: 'slow' }>(
    loadPdf(bytes, log),
    PARSE_TIME_LIMIT,
    () => ({
      kind: 'slow',
    }),
  );
  if (loaded.kind === 'slow') return refuse(PROBLEM_TOO_SLOW);
  let pages: number | null;
  let encrypted: 'none' | 'owner-only' = 'none';
  if (loaded.kind === 'unreadable') {
    log?.debug({ reason: loaded.reason }, 'pdf-lib could not read the PDF');
    return refuse(PROBLEM_UNREADABLE);
  } else if (loaded.kind === 'loaded') {
    pages = tryCountPages(loaded.doc);
  } else {
    const verdict = await inspectEncrypted(resolve(path), log);
    if (!verdict.ok) return verdict;
    pages = verdict.pages;
    encrypted = 'owner-only';
  }

  if (pages === null) return refuse(PROBLEM_UNREADABLE);
  if (pages === 0) return refuse(PROBLEM_NO_PAGES);
  if (pages > maxPages) return refuse(`has ${pages} pages; the most a fax can carry is ${maxPages}`);
  return { ok: true, pages, encrypted };
}

/** pdf-lib cannot decrypt, so qpdf decides whether the empty user password opens the file and counts its pages. */
async function inspectEncrypted(
  path: string,
  log: Logger | undefined,
): Promise<{ ok: true; pages: number | null } | { ok: false; problem: string }> {
  try {
    const requirement = await qpdfPasswordRequirement(path);
    if (requirement === 'needs-password') return refuse(PROBLEM_NEEDS_PASSWORD);
    if (requirement === 'unreadable') return refuse(PROBLEM_UNREADABLE);
    return { ok: true, pages: await qpdfPageCount(path) };
  } catch (error) {
    // Fail closed: an encrypted file we cannot check is not faxed. The operator learns why from the log.
    const reason = error instanceof QpdfUnavailableError ? 'qpdf is not installed' : String(error);
    log?.warn({ err: error, reason }, 'could not check an encrypted PDF with qpdf');
    return refuse(PROBLEM_ENCRYPTED_UNCHECKED);
  }
}

function refuse(problem: string): { ok: false; problem: string } {
  return { ok: false, problem };
}

/** "50 MB", "12.5 MB": limits are shown as the operator configured them. */
function formatMegabytes(bytes: number): string {
  return `${Number((bytes / MB).toFixed(1))} MB`;
}

/** Rounded up, so a file just over the limit never reads as equal to it ("50.1 MB", not "50 MB"). */
function formatMegabytesUp(bytes: number): string {
  return `${Math.ceil((bytes / MB) * 10) / 10} MB`;
}
