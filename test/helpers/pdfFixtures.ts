import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zlibConstants, createDeflateRaw, deflateRawSync, deflateSync } from 'node:zlib';

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

/*
 * Hostile PDFs: each is small on the wire and built in well under a second, and each would cost a naive reader
 * gigabytes or forever. They are what the document sandbox and the structure check are tested with.
 */

/**
 * zlib data that inflates to `zeros` zero bytes, made without ever holding them: zlib is fed 16 MB of zeros at a
 * time with a sync flush after each, which ends every piece byte-aligned. Once warmed up, the piece for 16 MB of
 * zeros (which refers only to earlier zeros) comes out the same every time, so it is repeated instead of
 * recomputed. The Adler-32 of n zeros is (n mod 65521) << 16 | 1.
 */
export async function zerosDeflated(zeros: number): Promise<Buffer> {
  const block = 16 * 1024 * 1024;
  if (zeros % block !== 0 || zeros < 4 * block)
    throw new Error('zerosDeflated wants a multiple of 16 MB, >= 64 MB');
  const deflater = createDeflateRaw({ level: 9 });
  const flushed = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    const take = (chunk: Buffer): number => chunks.push(chunk);
    deflater.on('data', take);
    deflater.write(Buffer.alloc(block));
    await new Promise<void>((resolve) => deflater.flush(zlibConstants.Z_SYNC_FLUSH, () => resolve()));
    deflater.off('data', take);
    return Buffer.concat(chunks);
  };
  const warmUp = [await flushed(), await flushed()];
  const steady = await flushed();
  const again = await flushed();
  deflater.destroy();
  if (!steady.equals(again)) throw new Error('zlib did not settle on a repeating block');
  const parts = [Buffer.from([0x78, 0xda]), ...warmUp];
  for (let done = 2 * block; done < zeros; done += block) parts.push(steady);
  // An empty final stored block ends the deflate stream.
  parts.push(Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]));
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((zeros % 65521) << 16) | 1) >>> 0);
  parts.push(adler);
  return Buffer.concat(parts);
}

/** `layers` Flate layers over `zeros` zero bytes: two layers make gigabytes out of a few KB. */
export async function layeredZeros(zeros: number, layers: number): Promise<Buffer> {
  let data = await zerosDeflated(zeros);
  for (let layer = 1; layer < layers; layer++) data = deflateSync(data, { level: 9 });
  return data;
}

/** A one-page PDF with `extra` objects spliced in before the trailer (no xref: pdf-lib recovers without one). */
function pdfWith(extra: Buffer[], pagesDict = '<< /Type /Pages /Kids [3 0 R] /Count 1 >>'): Buffer {
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from(`2 0 obj\n${pagesDict}\nendobj\n`),
    Buffer.from('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n'),
    ...extra,
    Buffer.from('trailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

function streamObject(number: number, dict: string, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`${number} 0 obj\n<< ${dict} /Length ${data.length} >>\nstream\n`),
    data,
    Buffer.from('\nendstream\nendobj\n'),
  ]);
}

/**
 * The outside testers' 4 KB PDF: an object stream filtered twice (`/Filter [/FlateDecode /FlateDecode]`) that
 * expands to `inflated` bytes (2 GB by default). `escapedNames` spells its names with `#` escapes
 * (`/Obj#53tm`, `/Fl#61teDecode`), which every reader decodes.
 */
export async function twoLayerObjectStreamPdf(
  options: { inflated?: number; escapedNames?: boolean } = {},
): Promise<Buffer> {
  const data = await layeredZeros(options.inflated ?? 2048 * 1024 * 1024, 2);
  const dict = options.escapedNames
    ? '/Type /Obj#53tm /N 1 /First 4 /Filter [/Fl#61teDecode /Fl#61te#44ecode]'
    : '/Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /FlateDecode]';
  return pdfWith([streamObject(4, dict, data)]);
}

/** The page's content stream, filtered twice, expands to about 2 GB: what a fax renderer would have to draw. */
export async function contentStreamBombPdf(inflated = 2048 * 1024 * 1024, layers = 2): Promise<Buffer> {
  const data = await layeredZeros(inflated, layers);
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n'),
    Buffer.from('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n'),
    streamObject(4, `/Filter [${Array(layers).fill('/FlateDecode').join(' ')}]`, data),
    Buffer.from('trailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

/** One page, but the page tree claims `count` of them (renderers that trust /Count allocate for them all). */
export function hugeCountPdf(count = 2_147_483_647): Buffer {
  return pdfWith([], `<< /Type /Pages /Kids [3 0 R] /Count ${count} >>`);
}

/** A page tree whose root lists itself among its kids: a naive walk never ends. */
export function pageTreeCyclePdf(): Buffer {
  return pdfWith([], '<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>');
}

/**
 * `objects` objects (6 million by default) in one compressed object stream of a few tens of KB: every entry of
 * its index points at the same `null`, so the stream stays small while a reader builds millions of objects.
 */
export function millionsOfObjectsPdf(objects = 6_000_000): Buffer {
  const index = Buffer.from('5 0 '.repeat(objects));
  const body = Buffer.concat([index, Buffer.from('null ')]);
  const data = deflateSync(body, { level: 9 });
  return pdfWith([
    streamObject(4, `/Type /ObjStm /N ${objects} /First ${index.length} /Filter /FlateDecode`, data),
  ]);
}

/**
 * `count` Flate content streams whose data all decode the same deflate bomb of `inflated` zero bytes: each outer
 * stream's data starts with a stored (uncompressed) deflate block that holds the next object's header, so the
 * object headers sit inside one another's data and every stream ends in the same compressed bytes. The file stays
 * ~200 KB while its streams together expand to `count` × `inflated`.
 */
export function overlappingStreamsPdf(count = 9, inflated = 128 * 1024 * 1024): Buffer {
  const bomb = deflateRawSync(Buffer.alloc(inflated), { level: 9 });
  const zlibHeader = Buffer.from([0x78, 0x9c]);
  // Built from the innermost stream outwards: `tail` is what follows `stream\n` of the current object.
  let tail = Buffer.concat([zlibHeader, bomb]);
  let outermost = Buffer.alloc(0);
  for (let i = count; i >= 1; i--) {
    const header = Buffer.from(
      `${10 + i} 0 obj\n<< /Filter /FlateDecode /Length ${tail.length} >>\nstream\n`,
    );
    if (i === 1) {
      outermost = Buffer.concat([header, tail]);
      break;
    }
    const prefix = Buffer.concat([header, tail.subarray(0, tail.length - bomb.length)]);
    const length = prefix.length;
    // A stored block, not the last (BFINAL 0, BTYPE 00): its length and the length's complement, then the bytes.
    const stored = Buffer.from([0x00, length & 0xff, length >> 8, ~length & 0xff, (~length >> 8) & 0xff]);
    tail = Buffer.concat([zlibHeader, stored, prefix, bomb]);
  }
  const contents = Array.from({ length: count }, (_, i) => `${11 + i} 0 R`).join(' ');
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n'),
    Buffer.from(
      `3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [${contents}] >>\nendobj\n`,
    ),
    outermost,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}
