import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';

import {
  concatTransformationMatrix,
  drawObject,
  PDFDocument,
  popGraphicsState,
  pushGraphicsState,
  StandardFonts,
} from 'pdf-lib';

/**
 * A fax-like PDF of a chosen size, made the way the ingest anchors' make-pdf did: every page carries a line of
 * text and a 1-bit Flate-compressed image (a "scan"). The image rows are random bits, so they do not compress
 * and the file size can be steered to within one image row of `targetBytes`. Valid for pdf-lib, qpdf and
 * pdfinfo; the daemon's checks and the simulator's page count read it like any scanned document.
 */
export interface BenchPdfOptions {
  pages: number;
  targetBytes: number;
  /** Text on each page, "<label> page N". */
  label?: string;
}

/** Fax fine resolution is 1728 dots across a Letter/A4 page: 216 bytes per 1-bit row. */
const IMAGE_WIDTH = 1728;
const ROW_BYTES = IMAGE_WIDTH / 8;

export async function makeBenchPdf(options: BenchPdfOptions): Promise<Buffer> {
  // First pass with no image data gives the fixed overhead; the second fills the rest with image rows.
  const overhead = (await buildPdf(options, 0)).length;
  const rowsPerPage = Math.max(
    1,
    Math.floor((options.targetBytes - overhead) / options.pages / (ROW_BYTES + deflateOverheadPerByte())),
  );
  return buildPdf(options, rowsPerPage);
}

/** Stored (level 0) deflate adds 5 bytes per 65,535-byte block; negligible, but counted so big files land close. */
function deflateOverheadPerByte(): number {
  return 5 / 65_535;
}

async function buildPdf(options: BenchPdfOptions, rowsPerPage: number): Promise<Buffer> {
  const label = options.label ?? 'faxbridge bench';
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= options.pages; n += 1) {
    const page = doc.addPage([612, 792]);
    page.drawText(`${label} page ${n}`, { x: 72, y: 740, size: 18, font });
    if (rowsPerPage === 0) continue;
    const image = doc.context.register(
      doc.context.stream(flate(randomBytes(rowsPerPage * ROW_BYTES)), {
        Type: 'XObject',
        Subtype: 'Image',
        Width: IMAGE_WIDTH,
        Height: rowsPerPage,
        ColorSpace: 'DeviceGray',
        BitsPerComponent: 1,
        Filter: 'FlateDecode',
      }),
    );
    const name = page.node.newXObject('Scan', image);
    // Drawn into the page below the text line, squeezed to fit whatever its height.
    page.pushOperators(
      pushGraphicsState(),
      concatTransformationMatrix(540, 0, 0, 680, 36, 36),
      drawObject(name),
      popGraphicsState(),
    );
  }
  // Object streams off: a plain xref table, as most scanners and office suites write.
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/**
 * A zlib stream (what /FlateDecode means) of random bytes. Stored blocks (level 0) are as valid as compressed
 * ones and cost nothing to make, which matters for the 50 MB file; random data would not compress anyway.
 */
function flate(bytes: Buffer): Buffer {
  return deflateSync(bytes, { level: 0 });
}
