import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { MB, SECOND } from '../../lib/units.js';

/**
 * The first page of a PDF as a PNG, for the inline preview in receipts and received-fax mails. Rendered by
 * poppler's `pdftoppm` (Debian package `poppler-utils`) in a child process that is killed after PREVIEW_TIMEOUT
 * and, through util-linux's `prlimit`, cannot take more than PREVIEW_MEMORY of address space: a hostile
 * received fax costs at most that, never the daemon. null when the tool is missing or the page cannot be drawn:
 * the mail then goes without a preview.
 */
export const PREVIEW_TIMEOUT = 20 * SECOND;
export const PREVIEW_MEMORY = 512 * MB;
/** Wide enough to read a header line on a screen, small enough for a mail (about 30–80 KB). */
const PREVIEW_WIDTH = 850;

export async function firstPagePng(pdf: Uint8Array | string): Promise<Buffer | null> {
  const dir = await mkdtemp(path.join(tmpdir(), 'faxbridge-preview-'));
  try {
    const input = typeof pdf === 'string' ? pdf : path.join(dir, 'in.pdf');
    if (typeof pdf !== 'string') await writeFile(input, pdf);
    const prefix = path.join(dir, 'page');
    const args = [
      '-png',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      '-scale-to',
      String(PREVIEW_WIDTH),
      input,
      prefix,
    ];
    const ok = await run('prlimit', [`--as=${PREVIEW_MEMORY}`, '--', 'pdftoppm', ...args]).catch(() =>
      // Without prlimit the time limit still holds.
      run('pdftoppm', args),
    );
    if (!ok) return null;
    return await readFile(`${prefix}.png`);
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** true when the command exited 0 in time; rejects only when it could not be started. */
function run(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), PREVIEW_TIMEOUT);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
