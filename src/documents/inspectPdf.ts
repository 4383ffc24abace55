import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { MB } from '../lib/units.js';
import type { Logger } from '../log.js';
import { qpdfPageCount, qpdfPasswordRequirement, QpdfUnavailableError } from './qpdf.js';
import { type DocumentSandbox, sharedDocumentSandbox } from './sandbox/documentSandbox.js';

/**
 * Decides whether a PDF can be faxed: it opens without a password, has pages, and fits Telnyx's limits
 * (50 MB / 350 pages, docs/telnyx.md). `problem` is written for the sender and follows the file name in the
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

/**
 * "is too complex to fax (it has more than 100000 objects); …": a document past a limit of the structure check or
 * of the sandbox. Printing it to a new PDF rewrites it plainly, which is what the sender can do about it.
 */
export function tooComplex(why: string): string {
  return `is too complex to fax (${why}); print it to a new PDF and send that instead`;
}

export async function inspectPdf(
  path: string,
  limits: PdfLimits = {},
  log?: Logger,
  sandbox: DocumentSandbox = sharedDocumentSandbox(),
): Promise<PdfInspection> {
  const maxPages = limits.maxPages ?? FAX_MAX_PAGES;
  const maxBytes = limits.maxBytes ?? FAX_MAX_BYTES;

  // Size first, from the file system: an oversized file is refused without reading it into memory.
  const { size } = await stat(path);
  if (size > maxBytes)
    return refuse(`is ${formatMegabytesUp(size)}; the most a fax can carry is ${formatMegabytes(maxBytes)}`);

  // Everything that parses the file runs in the sandbox: structure check, pdf-lib, page tree.
  const outcome = await sandbox.run('inspectPdf', { path: resolve(path) }, { log });
  if (!outcome.ok) {
    log?.info({ limit: outcome.limit, detail: outcome.detail }, 'PDF inspection stopped by the sandbox');
    if (outcome.limit === 'crash') return refuse(PROBLEM_UNREADABLE);
    return refuse(
      tooComplex(outcome.limit === 'time' ? 'it takes too long to open' : 'it needs too much memory to open'),
    );
  }
  const reading = outcome.value;
  let pages: number | null;
  let encrypted: 'none' | 'owner-only' = 'none';
  if (reading.kind === 'too-complex') return refuse(tooComplex(`it has ${reading.detail}`));
  if (reading.kind === 'unreadable') {
    log?.debug({ reason: reading.reason }, 'pdf-lib could not read the PDF');
    return refuse(PROBLEM_UNREADABLE);
  } else if (reading.kind === 'pages') {
    pages = reading.pages;
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
