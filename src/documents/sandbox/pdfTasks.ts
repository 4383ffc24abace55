import { createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';

import { PDFDocument } from 'pdf-lib';

import { type LoadedPdf, loadPdf, tryCountPages } from '../loadPdf.js';
import { hasPdfMagic, PDF_SNIFF_BYTES } from '../pdfMagic.js';
import { readPageTree } from '../pdfPageTree.js';
import { checkPdfStructure, type PdfStructureLimits } from '../pdfStructure.js';
import type { SandboxTaskContext } from './sandboxTasks.js';

/**
 * The PDF work of the document sandbox: every pdf-lib parse of a file we did not make runs here, in the child.
 * Each task first checks the raw structure (object count, how far compressed data expands), then lets pdf-lib
 * load the file and walks the page tree before trusting pdf-lib's own recursive walks with it.
 */
export type PdfReading =
  | { kind: 'pages'; pages: number }
  | { kind: 'encrypted' }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'too-complex'; detail: string };

export interface InspectPdfInput {
  path: string;
  /** Tests lower these (or raise them, to let a bomb through to the sandbox's own limits). */
  structureLimits?: Partial<PdfStructureLimits>;
}

export async function inspectPdfTask(
  input: InspectPdfInput,
  context: SandboxTaskContext,
): Promise<PdfReading> {
  const opened = await openPdf(input.path, input.structureLimits, context);
  if (opened.kind !== 'open') return opened;
  return { kind: 'pages', pages: opened.pages };
}

/** The page count or null, for received faxes and the simulator: they only need a number, or none. */
export async function countPdfPagesTask(
  input: { path: string },
  context: SandboxTaskContext,
): Promise<{ pages: number | null; problem: string | null }> {
  const reading = await inspectPdfTask(input, context);
  if (reading.kind === 'pages') return { pages: reading.pages, problem: null };
  return { pages: null, problem: reading.kind === 'too-complex' ? reading.detail : reading.kind };
}

export interface MergePdfsInput {
  inputs: string[];
  outPath: string;
}

export type MergeResult =
  | { kind: 'merged'; pages: number; size: number; sha256: string }
  /** Input `index` (0-based) could not be used; the parent names it and decides (decrypt, or refuse). */
  | { kind: 'input-refused'; index: number; reading: Exclude<PdfReading, { kind: 'pages' }> };

export async function mergePdfsTask(
  input: MergePdfsInput,
  context: SandboxTaskContext,
): Promise<MergeResult> {
  const merged = await PDFDocument.create();
  for (const [index, path] of input.inputs.entries()) {
    const opened = await openPdf(path, undefined, context);
    if (opened.kind !== 'open') return { kind: 'input-refused', index, reading: opened };
    const pages = await merged.copyPages(opened.doc, opened.doc.getPageIndices());
    for (const page of pages) merged.addPage(page);
  }
  // Classic cross-reference tables rather than object streams: the widest reader support for the fax renderer.
  const bytes = await merged.save({ useObjectStreams: false });
  await writeFile(input.outPath, bytes);
  return {
    kind: 'merged',
    pages: merged.getPageCount(),
    size: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(PDF_SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

type OpenedPdf = { kind: 'open'; doc: PDFDocument; pages: number } | Exclude<PdfReading, { kind: 'pages' }>;

async function openPdf(
  path: string,
  limits: Partial<PdfStructureLimits> | undefined,
  context: SandboxTaskContext,
): Promise<OpenedPdf> {
  if (!hasPdfMagic(await readHead(path))) return { kind: 'unreadable', reason: 'no %PDF- header' };
  // Checked from the file a window at a time, before pdf-lib is given the whole of it.
  const problem = await checkPdfStructure(path, limits);
  if (problem) return { kind: 'too-complex', detail: problem };
  // A Buffer, not a copy into a Uint8Array: pdf-lib then keeps stream data as views of it (Buffer#slice).
  const bytes = await readFile(path);
  const loaded: LoadedPdf = await loadPdf(bytes, context.log);
  if (loaded.kind === 'encrypted') return { kind: 'encrypted' };
  if (loaded.kind === 'unreadable') return { kind: 'unreadable', reason: loaded.reason };
  const tree = readPageTree(loaded.doc);
  if (tree.kind === 'too-complex') return tree;
  // pdf-lib loads some garbage without complaint and only fails on the page tree, so that decides too.
  const pages = tree.kind === 'pages' ? tryCountPages(loaded.doc) : null;
  if (pages === null) return { kind: 'unreadable', reason: 'no readable page tree' };
  return { kind: 'open', doc: loaded.doc, pages };
}
