import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';

/**
 * PDFs for tests, made with pdf-lib so no binary fixtures are needed. Every page carries its label twice: drawn as
 * text for a human looking at the file, and as a `/FaxbridgeTestLabel` entry in the page dictionary, which survives
 * `copyPages` and lets `readPageLabels` check page order after a merge without a text extractor.
 */
const LABEL_KEY = 'FaxbridgeTestLabel';
const PADDING_KEY = 'FaxbridgeTestPadding';

export interface MakePdfOptions {
  /** Pages are labelled `<label>:<n>`, n from 1. */
  label?: string;
  /**
   * Extra bytes in a stream hung off the first page (under a private key viewers ignore), to make big files cheaply.
   * The file grows by about this much, and a merge carries the bytes along as it would an image.
   */
  padBytes?: number;
}

export async function makePdf(pages: number, options: MakePdfOptions = {}): Promise<Buffer> {
  const label = options.label ?? 'doc';
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n += 1) {
    const page = doc.addPage([612, 792]);
    page.drawText(`${label} page ${n}`, { x: 72, y: 700, size: 24, font });
    page.node.set(PDFName.of(LABEL_KEY), PDFString.of(`${label}:${n}`));
    if (n === 1 && options.padBytes) {
      const padding = doc.context.register(doc.context.stream(Buffer.alloc(options.padBytes, 0x20)));
      page.node.set(PDFName.of(PADDING_KEY), padding);
    }
  }
  return Buffer.from(await doc.save());
}

/** The labels of the pages in order, e.g. `['a:1', 'a:2', 'b:1']`; `?` for a page without one. */
export async function readPageLabels(pdf: Uint8Array): Promise<string[]> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  return doc.getPages().map((page) => {
    const value = page.node.get(PDFName.of(LABEL_KEY));
    return value instanceof PDFString ? value.decodeText() : '?';
  });
}

/** The first part of a PDF, as a download cut short would leave it. */
export function truncatePdf(pdf: Buffer, fraction = 0.6): Buffer {
  return pdf.subarray(0, Math.floor(pdf.length * fraction));
}

/** Starts like a PDF and is nothing but noise after the header. */
export function garbagePdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('this is not a PDF body\n'.repeat(50))]);
}

/**
 * True when the qpdf CLI can run. Encrypted fixtures need it; tests that use them skip locally without it but
 * never in CI (`CI` set), where qpdf is installed and a missing binary must fail the run.
 */
export const hasQpdf = spawnSync('qpdf', ['--version'], { stdio: 'ignore' }).status === 0;
export const skipWithoutQpdf = !hasQpdf && !process.env.CI;

/**
 * AES-256 encryption with qpdf. An empty `userPassword` gives an owner-password-only file: it opens without a
 * password but carries restrictions, like many bank statements and e-signed documents.
 */
export async function encryptPdf(
  pdf: Buffer,
  passwords: { userPassword: string; ownerPassword: string },
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'faxbridge-pdf-'));
  try {
    const plain = join(dir, 'plain.pdf');
    const locked = join(dir, 'locked.pdf');
    await writeFile(plain, pdf);
    const result = spawnSync('qpdf', [
      '--encrypt',
      passwords.userPassword,
      passwords.ownerPassword,
      '256',
      '--',
      plain,
      locked,
    ]);
    if (result.status !== 0) throw new Error(`qpdf --encrypt failed: ${String(result.stderr)}`);
    return await readFile(locked);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A one-page PDF followed by `extra` filler objects (pdf-lib would build every one of them). */
export function manyObjectsPdf(extra: number): Buffer {
  const parts = [
    '%PDF-1.7\n',
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    '2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n',
    '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n',
  ];
  for (let i = 0; i < extra; i++) parts.push(`${i + 4} 0 obj\n<< /A [1 2 3] >>\nendobj\n`);
  parts.push(`trailer\n<< /Root 1 0 R /Size ${extra + 4} >>\n%%EOF\n`);
  return Buffer.from(parts.join(''));
}

/** A PDF whose object stream inflates to `inflated` zero bytes. */
export function objectStreamBombPdf(inflated: number): Buffer {
  const data = deflateSync(Buffer.alloc(inflated));
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from(
      `4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`,
    ),
    data,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}
