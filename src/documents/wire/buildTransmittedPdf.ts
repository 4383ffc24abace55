import './nativeDeflate.js';

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

import { PDFDocument } from 'pdf-lib';

import { coverTexts, type CoverValues, drawCoverPage, fillCoverTemplate } from './coverPage.js';
import { makeFontSet } from './fonts.js';
import { fillHeaderText, type HeaderValues, stampPages } from './headerLine.js';
import { writePdfFile, type WrittenPdf } from './writePdfFile.js';

export interface TransmitRequest {
  /** The stored document: already checked, decrypted and merged at intake, so it parses. */
  document: Uint8Array;
  /** `header.text` with its placeholders, or null when `header.enabled` is false. */
  headerText: string | null;
  header: HeaderValues;
  /** null: no cover page. `pages` is filled in here (the total, counting the cover). */
  cover: {
    values: Omit<CoverValues, 'pages'>;
    logo: Uint8Array | null;
    /** A `cover.template` PDF with form fields; when set, the built-in layout is not used. */
    template: Uint8Array | null;
  } | null;
}

export interface TransmittedPdf {
  pdf: Uint8Array;
  pages: number;
}

/** Letter, for a document whose first page cannot tell us the paper (it always can; this is a guard). */
const LETTER: [number, number] = [612, 792];

/**
 * What the recipient's fax machine prints: the cover page (when asked for), then the document, every page with
 * the header line in a band at its top. Bytes in, bytes out, no I/O but reading the fonts, so it can run in a
 * killable child process like the other PDF work. Page numbers count the cover.
 */
export async function buildTransmittedPdf(request: TransmitRequest): Promise<TransmittedPdf> {
  const composed = await composeTransmittedPdf(request);
  // Nothing to add: the document goes byte for byte as it was stored.
  if (!composed.out) return { pdf: request.document, pages: composed.pages };
  return { pdf: await composed.out.save(), pages: composed.pages };
}

/**
 * The same PDF written to `path` as it is serialized, never whole in memory (src/documents/wire/writePdfFile.ts):
 * for a 50 MB document that is 50 MB less than `buildTransmittedPdf`'s bytes.
 */
export async function writeTransmittedPdf(
  request: TransmitRequest,
  path: string,
): Promise<WrittenPdf & { pages: number }> {
  const composed = await composeTransmittedPdf(request);
  if (composed.out) return { ...(await writePdfFile(composed.out, path)), pages: composed.pages };
  await writeFile(path, request.document, { flag: 'wx' });
  const sha256 = createHash('sha256').update(request.document).digest('hex');
  return { size: request.document.length, sha256, pages: composed.pages };
}

/** The output document with its page count, or no document when there is nothing to add to the stored one. */
async function composeTransmittedPdf(
  request: TransmitRequest,
): Promise<{ out: PDFDocument | null; pages: number }> {
  const document = await PDFDocument.load(request.document, { updateMetadata: false });
  if (!request.headerText && !request.cover) return { out: null, pages: document.getPageCount() };
  const sources: PDFDocument[] = [];
  let coverPages = 0;
  if (request.cover?.template) {
    // The template is filled once to learn its page count, then again with the total it now knows.
    const probe = await PDFDocument.load(request.cover.template, { updateMetadata: false });
    coverPages = probe.getPageCount();
    const total = String(coverPages + document.getPageCount());
    const filled = await fillCoverTemplate(
      request.cover.template,
      { ...request.cover.values, pages: total },
      (doc, texts) => makeFontSet(doc, texts),
    );
    sources.push(await settled(filled));
  } else if (request.cover) {
    coverPages = 1;
    const values: CoverValues = {
      ...request.cover.values,
      pages: String(1 + document.getPageCount()),
    };
    const sheet = await PDFDocument.create();
    const fonts = await makeFontSet(sheet, coverTexts(values));
    await drawCoverPage(sheet, firstPageSize(document), values, fonts, request.cover.logo);
    sources.push(await settled(sheet));
  }
  sources.push(document);

  const out = await PDFDocument.create();
  const total = coverPages + document.getPageCount();
  const sampleLines = request.headerText
    ? [fillHeaderText(request.headerText, { ...request.header, page: total, pages: total })]
    : [];
  // The header line is drawn in the regular weight only: embedding the bold face too cost every job its subset.
  const fonts = request.headerText
    ? await makeFontSet(out, [...sampleLines, '0123456789'], ['regular'])
    : null;
  const pages = await stampPages(out, sources, request.headerText, request.header, fonts);
  out.setProducer('faxbridge');
  return { out, pages };
}

/**
 * pdf-lib writes embedded fonts only when a document is saved; a page copied from one not yet saved would point
 * at empty fonts. Saving and reading back makes the cover a finished document like the one it precedes.
 */
async function settled(doc: PDFDocument): Promise<PDFDocument> {
  return PDFDocument.load(await doc.save(), { updateMetadata: false });
}

function firstPageSize(document: PDFDocument): [number, number] {
  const first = document.getPageCount() > 0 ? document.getPage(0) : null;
  if (!first) return LETTER;
  const box = first.getCropBox();
  const turned = first.getRotation().angle % 180 !== 0;
  const [width, height] = turned ? [box.height, box.width] : [box.width, box.height];
  // A landscape first page still gets an upright cover: fax paper is portrait.
  return width > height ? [height, width] : [width, height];
}
