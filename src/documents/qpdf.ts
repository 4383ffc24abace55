import { execFile } from 'node:child_process';

import { SECOND } from '../lib/units.js';

/**
 * The few qpdf calls faxbridge needs for encrypted PDFs, which pdf-lib 1.17.1 cannot decrypt
 * (docs/dependencies.md, pdf-lib). qpdf (Debian package `qpdf`, 11.x) is therefore a runtime dependency for
 * encrypted documents only; without it they are refused with a clear reason, everything else still works.
 *
 * Exit codes are documented in the qpdf manual ("Exit Status"): 0 success, 2 errors, 3 warnings only.
 * `--requires-password` reuses them with its own meaning: 0 needs a password, 2 not encrypted, 3 encrypted but
 * opens with the empty user password. Because 2 also means "could not read the file", it is only asked about files
 * that pdf-lib already saw an /Encrypt entry in.
 */
const QPDF_BINARY = 'qpdf';
/** A damaged 50 MB file can make qpdf's recovery scan slow; past this we give up rather than hold a session. */
const QPDF_TIMEOUT = 30 * SECOND;
/** qpdf prints a number or a few warnings on these calls; anything much larger is not worth keeping. */
const QPDF_MAX_OUTPUT = 64 * 1024;

export interface QpdfResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type PasswordRequirement = 'needs-password' | 'owner-only' | 'unreadable';

/** Thrown when the qpdf binary is missing, so callers can say so instead of calling the file damaged. */
export class QpdfUnavailableError extends Error {
  constructor(cause: unknown) {
    super('qpdf is not installed or could not be started', { cause });
    this.name = 'QpdfUnavailableError';
  }
}

export function runQpdf(args: string[], timeoutMs = QPDF_TIMEOUT): Promise<QpdfResult> {
  return new Promise((resolve, reject) => {
    execFile(
      QPDF_BINARY,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: QPDF_MAX_OUTPUT, windowsHide: true },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT')
          return reject(new QpdfUnavailableError(error));
        if (error && typeof error.code !== 'number') {
          // Killed by the timeout, output too large, or could not spawn: not an answer about the file.
          return reject(new Error(`qpdf ${args[0] ?? ''} failed: ${error.message}`, { cause: error }));
        }
        resolve({ exitCode: error ? Number(error.code) : 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Asks qpdf whether an encrypted PDF opens without a password (an owner password alone restricts, not locks). */
export async function qpdfPasswordRequirement(path: string): Promise<PasswordRequirement> {
  const { exitCode } = await runQpdf(['--requires-password', '--', path]);
  if (exitCode === 0) return 'needs-password';
  if (exitCode === 3) return 'owner-only';
  return 'unreadable';
}

/** Page count through qpdf, for encrypted files that open with the empty password. Null when qpdf cannot tell. */
export async function qpdfPageCount(path: string): Promise<number | null> {
  const { exitCode, stdout } = await runQpdf(['--show-npages', '--', path]);
  // 3 = it read the file but repaired something on the way; the count is still what a viewer would show.
  if (exitCode !== 0 && exitCode !== 3) return null;
  const pages = Number.parseInt(stdout.trim(), 10);
  return Number.isSafeInteger(pages) && pages >= 0 ? pages : null;
}

/** Writes an unencrypted copy of an owner-password-only PDF (opened with the empty user password). */
export async function qpdfDecrypt(inputPath: string, outputPath: string): Promise<void> {
  const { exitCode, stderr } = await runQpdf(['--decrypt', '--', inputPath, outputPath]);
  if (exitCode !== 0 && exitCode !== 3)
    throw new Error(`qpdf --decrypt exited ${exitCode}: ${stderr.trim()}`);
}
