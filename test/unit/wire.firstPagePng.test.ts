import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { makeDocumentSandbox } from '../../src/documents/sandbox/documentSandbox.js';
import { firstPagePng } from '../../src/documents/wire/firstPagePng.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/*
 * The preview in receipts and received-fax mails, drawn in a background child of the document sandbox (the
 * compiled child from dist/: `npm run build` first). Needs poppler-utils' pdftoppm, as the image has.
 */
const sandbox = makeDocumentSandbox();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-preview-test-'));
});
afterAll(async () => {
  sandbox.closeIdle();
  await rm(dir, { recursive: true, force: true });
});

describe('firstPagePng', () => {
  it("is pdftoppm's gray drawing of the first page, pixel for pixel, as a PNG", async () => {
    const pdf = await makePdf(3);
    const png = await firstPagePng(pdf, sandbox);
    expect(png?.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    // What pdftoppm draws by itself: the preview shows exactly that, whatever the PNG's compression.
    const path = join(dir, 'doc.pdf');
    await writeFile(path, pdf);
    const args = ['-gray', '-f', '1', '-l', '1', '-singlefile', '-scale-to', '850', path, join(dir, 'ref')];
    await promisify(execFile)('pdftoppm', args);
    const pgm = await readFile(join(dir, 'ref.pgm'));
    const [, width, height] = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 64).toString('latin1'))!;
    // IHDR: 8-bit gray, as pdftoppm drew it.
    expect([png![24], png![25]]).toEqual([8, 0]);
    const drawn = await sharp(png!).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([drawn.info.width, drawn.info.height, drawn.info.channels]).toEqual([
      Number(width),
      Number(height),
      1,
    ]);
    expect(drawn.data.equals(pgm.subarray(pgm.length - drawn.data.length))).toBe(true);
  });

  it('is null for a file that is not a PDF, and the mail goes without it', async () => {
    expect(await firstPagePng(Buffer.from('not a pdf at all'), sandbox)).toBeNull();
    expect(await firstPagePng(join(dir, 'missing.pdf'), sandbox)).toBeNull();
  });
});

describe('a page that takes pdftoppm forever to draw', () => {
  it('is drawn capped in CPU and memory, in the caller’s folder; nothing is left when its child dies', async () => {
    // The system's temp folder, as the sandbox's new child and firstPagePng see it: only this test's.
    const temp = await mkdtemp(join(dir, 'tmp-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    const fresh = makeDocumentSandbox();
    try {
      const preview = firstPagePng(await endlessDrawingPdf(), fresh);
      const drawing = await drawingStarted(temp, 20_000);
      const limits = await readFile(`/proc/${drawing.pid}/limits`, 'utf8');
      expect(limits).toMatch(/^Max cpu time\s+20\s+20\s+seconds/m);
      expect(limits).toMatch(/^Max address space\s+536870912\s+536870912\s+bytes/m);

      // The sandbox's child goes (killed at a limit, or by the OOM killer) while pdftoppm draws.
      process.kill(drawing.ppid, 'SIGKILL');
      expect(await preview).toBeNull();
      // pdftoppm ends with it, and the folders of both are gone.
      await expect.poll(() => isRunning(drawing.pid), { timeout: 10_000 }).toBe(false);
      expect(await readdir(temp)).toEqual([]);
    } finally {
      process.env.TMPDIR = before;
      if (before === undefined) delete process.env.TMPDIR;
      fresh.closeIdle();
    }
  });
});

describe('the deadline of a preview (its mail waits for it, inside the outbox lease)', () => {
  let temp: string;
  let before: string | undefined;
  beforeEach(async () => {
    // The system's temp folder, as firstPagePng and new sandbox children see it: only this test's.
    temp = await mkdtemp(join(dir, 'tmp-'));
    before = process.env.TMPDIR;
    process.env.TMPDIR = temp;
  });
  afterEach(() => {
    process.env.TMPDIR = before;
    if (before === undefined) delete process.env.TMPDIR;
  });

  it('ends a drawing that outlasts it: no preview, and the drawing is stopped', async () => {
    const fresh = makeDocumentSandbox();
    try {
      const preview = firstPagePng(await endlessDrawingPdf(), fresh, 5000);
      const drawing = await drawingStarted(temp, 5000);
      // Stopped, it uses no CPU and would never reach its own CPU limit: only the deadline can end it.
      process.kill(drawing.pid, 'SIGSTOP');
      expect(await preview).toBeNull();
      await expect.poll(() => isRunning(drawing.pid), { timeout: 10_000 }).toBe(false);
      expect(await readdir(temp)).toEqual([]);
    } finally {
      fresh.closeIdle();
    }
  });

  it('counts the wait for a slot: behind a drawing that takes the lane, the mail goes without its preview', async () => {
    const fresh = makeDocumentSandbox({ backgroundConcurrency: 1 });
    try {
      const first = firstPagePng(await endlessDrawingPdf(), fresh, 60_000);
      const drawing = await drawingStarted(temp, 20_000);
      expect(await firstPagePng(await makePdf(1), fresh, 500)).toBeNull();
      // The one that gave up waiting did not disturb the one drawing.
      expect(await isRunning(drawing.pid)).toBe(true);
      process.kill(drawing.ppid, 'SIGKILL');
      expect(await first).toBeNull();
    } finally {
      fresh.closeIdle();
    }
  });
});

/**
 * One page whose drawing never ends: a form XObject that draws the next one twice, forty levels deep, so the
 * rectangle at the bottom is drawn 2^40 times. A few KB.
 */
function endlessDrawingPdf(): Promise<Buffer> {
  const levels = 40;
  const stream = (dict: string, body: string) =>
    `<< ${dict} /Length ${body.length} >>\nstream\n${body}\nendstream`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R ' +
      '/Resources << /XObject << /X 5 0 R >> >> >>',
    stream('', '/X Do'),
  ];
  for (let level = 0; level < levels; level += 1) {
    const last = level === levels - 1;
    const resources = last ? '' : `/Resources << /XObject << /X ${6 + level} 0 R >> >>`;
    objects.push(
      stream(
        `/Type /XObject /Subtype /Form /BBox [0 0 612 792] ${resources}`,
        last ? '0 0 612 792 re f' : '/X Do /X Do',
      ),
    );
  }
  let pdf = '%PDF-1.7\n';
  const offsets = objects.map((object, at) => {
    const offset = pdf.length;
    pdf += `${at + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Root 1 0 R /Size ${objects.length + 1} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Promise.resolve(Buffer.from(pdf, 'latin1'));
}

/** Waits until pdftoppm draws a file under `folder`; its pid and its parent's (the sandbox's child). */
async function drawingStarted(folder: string, timeoutMs: number): Promise<{ pid: number; ppid: number }> {
  let drawing: { pid: number; ppid: number } | undefined;
  await expect
    .poll(async () => (drawing = await pdftoppmDrawingIn(folder)), { timeout: timeoutMs, interval: 50 })
    .toBeDefined();
  return drawing!;
}

/** The pdftoppm drawing a file under `folder`, and its parent (the sandbox's child); undefined if none is. */
async function pdftoppmDrawingIn(folder: string): Promise<{ pid: number; ppid: number } | undefined> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,ppid=,stat=,args=']);
  for (const line of stdout.split('\n')) {
    const [pid, ppid, stat, command, ...args] = line.trim().split(/\s+/);
    if (command === 'pdftoppm' && !stat?.startsWith('Z') && args.some((arg) => arg.startsWith(folder))) {
      return { pid: Number(pid), ppid: Number(ppid) };
    }
  }
  return undefined;
}

/** Alive and not a zombie (an orphan's parent may be slow to reap it). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}
