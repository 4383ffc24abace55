import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

import { formatBytes } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { FaxPdf } from './convertParts.js';
import { FAX_MAX_BYTES, FAX_MAX_PAGES, inspectPdf } from './inspectPdf.js';
import { mergePdfs } from './mergePdfs.js';
import { qpdfDecrypt } from './qpdf.js';

/** The one PDF a message (or a console upload) is faxed as, ready to store. */
export interface FaxDocument {
  path: string;
  /** The names the sender gave, joined with ` + ` when several were merged. */
  filename: string;
  pages: number;
  size: number;
  sha256: string;
}

/**
 * A document problem, in the words of the SMTP replies (docs/behaviour.md §3): `problem` follows the file name,
 * as in `Letter.pdf needs a password to open`. Always the sender's document, never our trouble: a permanent
 * refusal, never a retry.
 */
export class FaxDocumentRefused extends Error {
  readonly filename: string;
  readonly problem: string;

  constructor(filename: string, problem: string) {
    super(`${filename} ${problem}`);
    this.name = 'FaxDocumentRefused';
    this.filename = filename;
    this.problem = problem;
  }
}

/**
 * The PDFs of one message, each already converted or prepared (convertParts.ts), checked against the fax limits
 * and made one: a single PDF is faxed as it is (decrypted when only an owner password locks it), several are
 * merged in the order they came. The one intake for email and the console's send page, so both refuse in the same
 * words. A PDF prepared in the sandbox had its checks there; only its size is looked at again.
 */
export async function assembleFaxPdf(pdfs: FaxPdf[], workDir: string, log: Logger): Promise<FaxDocument> {
  const limits = { maxPages: FAX_MAX_PAGES, maxBytes: FAX_MAX_BYTES };
  const inspected = [];
  for (const pdf of pdfs) {
    const result =
      pdf.pages !== undefined && pdf.size <= FAX_MAX_BYTES
        ? { ok: true as const, pages: pdf.pages, encrypted: 'none' as const }
        : await inspectPdf(pdf.path, limits, log);
    if (!result.ok) {
      log.info({ file: pdf.filename, problem: result.problem }, 'document refused');
      throw new FaxDocumentRefused(pdf.filename, result.problem);
    }
    inspected.push({ ...pdf, pages: result.pages, encrypted: result.encrypted });
  }
  if (inspected.length === 1) {
    const only = inspected[0]!;
    if (only.encrypted === 'owner-only') return decryptedCopy(only, workDir, log);
    return {
      path: only.path,
      filename: only.filename,
      pages: only.pages,
      size: only.size,
      sha256: only.sha256,
    };
  }
  const mergedPath = path.join(workDir, 'merged.pdf');
  const filename = inspected.map((pdf) => pdf.filename).join(' + ');
  const merged = await mergePdfs(
    inspected.map((pdf) => pdf.path),
    mergedPath,
    log,
  ).catch((error: unknown) => {
    log.info({ err: error }, 'documents could not be merged');
    throw new FaxDocumentRefused(filename, `could not be combined into one fax: ${(error as Error).message}`);
  });
  if (merged.pages > FAX_MAX_PAGES || merged.size > FAX_MAX_BYTES) {
    throw new FaxDocumentRefused(
      filename,
      `together have ${merged.pages} pages and ${formatBytes(merged.size)}; the most a fax can carry is ${FAX_MAX_PAGES} pages and ${formatBytes(FAX_MAX_BYTES)}`,
    );
  }
  return { path: mergedPath, filename, ...merged };
}

/**
 * An owner-password-only PDF opens without a password but stays encrypted, and a fax service's renderer may not
 * read it (the simulator, like pdf-lib, cannot). It is faxed decrypted, as a merge does: faxing is printing,
 * which such files allow (docs/behaviour.md §3).
 */
async function decryptedCopy(
  pdf: { path: string; filename: string; pages: number },
  workDir: string,
  log: Logger,
): Promise<FaxDocument> {
  const target = path.join(workDir, 'decrypted.pdf');
  try {
    await qpdfDecrypt(pdf.path, target);
  } catch (error) {
    log.warn({ err: error, file: pdf.filename }, 'owner-password PDF could not be decrypted');
    throw new FaxDocumentRefused(pdf.filename, 'is encrypted and could not be opened for faxing');
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(target)) hash.update(chunk as Buffer);
  const { size } = await stat(target);
  return { path: target, filename: pdf.filename, pages: pdf.pages, size, sha256: hash.digest('hex') };
}
