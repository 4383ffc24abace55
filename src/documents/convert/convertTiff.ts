import { readFile, writeFile } from 'node:fs/promises';

import { PDFDocument, type PDFRef } from 'pdf-lib';
import sharp, { type OutputInfo } from 'sharp';

import { ConvertError, toConvertError } from './convertErrors.js';
import { addImageToPdf, MAX_INPUT_PIXELS } from './convertImage.js';
import { type ConvertOptions, type ConvertResult, DEFAULT_MAX_PAGES } from './convertOptions.js';
import { addImagePage } from './imagePage.js';
import { readTiffPages } from './tiffDirectory.js';

/**
 * A TIFF becomes one page per TIFF page. Black-and-white pages (fax G3/G4, most office scanners) are embedded as
 * 1-bit images, bit for bit as scanned: no rescaling, no greyscale, no JPEG, so fine print stays as sharp as the
 * scanner made it. Colour and greyscale pages go the photo way (convertImage).
 */
export async function convertTiff(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions,
): Promise<ConvertResult> {
  const bytes = await readFile(inputPath);
  const pages = readTiffPages(bytes, options.maxPages ?? DEFAULT_MAX_PAGES);
  if (pages.length === 0) throw new ConvertError('unreadable', 'the TIFF file has no pages');
  const doc = await PDFDocument.create();
  for (const [index, page] of pages.entries()) {
    // Pixel height relative to width: 204/98 for a normal-resolution fax.
    const aspect = page.xResolution / page.yResolution;
    if (page.bitsPerSample === 1 && page.samplesPerPixel === 1) {
      const image = await embedBilevelPage(doc, bytes, index);
      addImagePage(doc, image.ref, { width: image.width, height: image.height, aspect }, options.paper);
    } else {
      await addImageToPdf(doc, bytes, 'tiff', { ...options, page: index, aspect });
    }
  }
  await writeFile(outputPath, await doc.save());
  return { pages: pages.length };
}

/**
 * Decodes one bilevel page (sharp applies the TIFF's photometric interpretation, so black is 0) and stores it as a
 * DeviceGray image with 1 bit per pixel, Flate-compressed: lossless, and about as small as the PNG a 2-colour
 * palette would give.
 */
async function embedBilevelPage(
  doc: PDFDocument,
  bytes: Buffer,
  page: number,
): Promise<{ ref: PDFRef; width: number; height: number }> {
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(bytes, { page, limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toConvertError(error, `TIFF page ${page + 1}`);
  }
  const { width, height } = raw.info;
  const stride = Math.ceil(width / 8);
  const packed = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // DeviceGray with 1 bit: 0 is black, 1 is white.
      if (raw.data[y * width + x]! >= 128) packed[y * stride + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  const stream = doc.context.flateStream(packed, {
    Type: 'XObject',
    Subtype: 'Image',
    Width: width,
    Height: height,
    ColorSpace: 'DeviceGray',
    BitsPerComponent: 1,
  });
  return { ref: doc.context.register(stream), width, height };
}
