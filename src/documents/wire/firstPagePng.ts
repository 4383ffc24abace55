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
 *
 * pdftoppm draws the page in gray as a plain PGM, and sharp (libvips, on libuv's threads, off the event loop)
 * encodes the PNG: pdftoppm's own PNG output of a scanned page cost about 250 ms of CPU, nearly all of it in its
 * compression, against about 40 ms this way, and a fax is black and white anyway. Every delivered receipt and every
 * received fax has one, so this was most of the work a fax costs after its 250.
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
      '-gray',
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
    return await grayPng(await readFile(`${prefix}.pgm`));
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

/** PGM's binary form as pdftoppm writes it: `P5`, width, height, maxval 255, one white-space byte, then pixels. */
const PGM_HEADER = /^P5\s+(\d+)\s+(\d+)\s+255\s/;

/** The gray pixels of a PGM as a PNG; null when the file is not what pdftoppm writes. */
async function grayPng(pgm: Buffer): Promise<Buffer | null> {
  const header = PGM_HEADER.exec(pgm.subarray(0, 64).toString('latin1'));
  if (!header) return null;
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = pgm.subarray(header[0].length);
  if (width < 1 || height < 1 || pixels.length !== width * height) return null;
  // Loaded by the first preview, not by every daemon at start.
  const { default: sharp } = await import('sharp');
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
