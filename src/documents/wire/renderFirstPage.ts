import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { runLimited } from '../../lib/limitedCommand.js';
import { MB, SECOND } from '../../lib/units.js';
import { NICED_WALL_FACTOR } from '../sandbox/taskWatchdog.js';

/**
 * The drawing behind firstPagePng.ts, run in a background child of the document sandbox (wireTasks.ts), so that
 * both pdftoppm (which inherits the child's niceness) and sharp's encoding yield the CPU to intake.
 *
 * poppler's `pdftoppm` (Debian package `poppler-utils`) draws the page in a process of its own, limited to
 * PREVIEW_TIMEOUT of CPU and PREVIEW_MEMORY of address space (lib/limitedCommand.ts): a hostile received fax
 * costs at most that. CPU time, not wall-clock time, because it runs niced: on a busy machine it may wait for
 * the CPU far longer than it draws (the sandbox's background lane counts time the same way, taskWatchdog.ts),
 * with the same backstop of NICED_WALL_FACTOR times the limit. It ends with the child that started it, which
 * the sandbox kills at its limits or at the preview's deadline (firstPagePng.ts). It draws in gray as a plain
 * PGM, and sharp (libvips) encodes the PNG: pdftoppm's own PNG output of a scanned page cost about 230 ms of
 * CPU, nearly all of it in its compression, against about 6 ms for sharp's, and a fax is black and white anyway.
 */
export const PREVIEW_TIMEOUT = 20 * SECOND;
const PREVIEW_MEMORY = 512 * MB;
/** The page's longer side, in pixels: enough to read a header line on a screen, small for a mail (15–70 KB). */
const PREVIEW_SIZE = 850;
/**
 * zlib level of the PNG; lossless at any level, the same pixels. Level 4 (zlib's cheapest lazy matching) cost 0.5
 * of level 6's CPU on a scanned page and 0.8 on a page of text, for 3–10 % more bytes.
 */
const PNG_COMPRESSION = 4;

/**
 * Writes the first page of the PDF at `pdfPath` as a PNG to `pngPath`; false when it cannot be drawn. pdftoppm's
 * page goes beside `pngPath`, in a folder of the caller's own that the caller removes whatever happens here
 * (firstPagePng.ts): a child killed while pdftoppm draws leaves nothing behind in the system's temp folder.
 */
export async function renderFirstPage(pdfPath: string, pngPath: string): Promise<boolean> {
  const prefix = path.join(path.dirname(pngPath), 'drawn');
  const args = [
    '-gray',
    '-f',
    '1',
    '-l',
    '1',
    '-singlefile',
    '-scale-to',
    String(PREVIEW_SIZE),
    pdfPath,
    prefix,
  ];
  const ok = await runLimited(
    // Niced and limited in CPU time, it may wait long for the CPU; plain, only a wall-clock limit holds.
    (command, commandArgs, limited) =>
      run(command, commandArgs, limited ? PREVIEW_TIMEOUT * NICED_WALL_FACTOR : PREVIEW_TIMEOUT),
    'pdftoppm',
    args,
    { memoryBytes: PREVIEW_MEMORY, cpuSeconds: PREVIEW_TIMEOUT / SECOND },
  );
  if (!ok) return false;
  const png = await grayPng(await readFile(`${prefix}.pgm`));
  if (!png) return false;
  await writeFile(pngPath, png);
  return true;
}

/** true when the command exited 0 within `wallMs`; rejects only when it could not be started. */
function run(command: string, args: string[], wallMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), wallMs);
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
  // Loaded by the first preview this child draws.
  const { default: sharp } = await import('sharp');
  // Nothing is drawn twice: libvips' operation cache would only hold memory in a child that is reused.
  sharp.cache(false);
  // A gray PNG: left to itself sharp writes one channel of gray as RGB, three times the bytes to filter and
  // compress for the same pixels (22 against 12 ms at level 6 on a scanned page, and mails 1.4–3 times larger).
  return sharp(pixels, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: PNG_COMPRESSION })
    .toBuffer();
}
