import { readFile, writeFile } from 'node:fs/promises';

import { PDFDocument } from 'pdf-lib';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';

import { ConvertError, toConvertError } from './convertErrors.js';
import type { ConvertOptions, ConvertResult } from './convertOptions.js';
import { decodeBmp, type RawImage } from './decodeBmp.js';
import { decodeHeic } from './decodeHeic.js';
import type { ImageFormat } from './documentKind.js';
import { addImagePage, maxPixelsFor } from './imagePage.js';

/**
 * A photo or picture becomes one page: EXIF orientation applied (phones store the sensor's pixels and a tag that
 * says "turn me"), transparency on white (a fax has no alpha, and a transparent PNG would otherwise print black),
 * downscaled to what a fax can show, then placed by addImagePage. sharp (libvips, prebuilt on npm) reads JPEG, PNG,
 * GIF (the first frame), WebP and AVIF; BMP and HEIC are decoded first by decodeBmp and decodeHeic.
 */

/** 100 megapixels: more than any phone or scanner page; a decompression bomb is refused before decoding. */
export const MAX_INPUT_PIXELS = 100_000_000;

/** Photos stay JPEG (small, and a fax halftones them anyway); drawings and screenshots stay lossless PNG. */
const PHOTO_FORMATS: ReadonlySet<ImageFormat> = new Set(['jpeg', 'heic', 'webp', 'avif']);

export async function convertImage(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions & { format: ImageFormat },
): Promise<ConvertResult> {
  const bytes = await readFile(inputPath);
  const doc = await PDFDocument.create();
  await addImageToPdf(doc, bytes, options.format, options);
  await writeFile(outputPath, await doc.save());
  return { pages: 1 };
}

/** Adds the image as one page; also used for colour and greyscale TIFF pages. */
export async function addImageToPdf(
  doc: PDFDocument,
  bytes: Buffer,
  format: ImageFormat | 'tiff',
  options: ConvertOptions & { page?: number; aspect?: number },
): Promise<void> {
  const image = await openImage(bytes, format, options.page);
  let metadata: Metadata;
  try {
    metadata = await image.metadata();
  } catch (error) {
    throw toConvertError(error, 'image');
  }
  const { width, height } = orientedSize(metadata);
  if (!width || !height) throw new ConvertError('unreadable', 'the image has no pixels');
  const aspect = options.aspect ?? 1;
  const limit = maxPixelsFor(width, height * aspect, options.paper);
  const pipeline = image
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize({
      width: limit.width,
      height: Math.ceil(limit.height / aspect),
      fit: 'inside',
      withoutEnlargement: true,
    });
  let encoded: { data: Buffer; info: OutputInfo };
  try {
    encoded = await (
      PHOTO_FORMATS.has(format as ImageFormat)
        ? pipeline.jpeg({ quality: 85 })
        : pipeline.png({ compressionLevel: 9 })
    ).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toConvertError(error, 'image');
  }
  const embedded =
    encoded.info.format === 'jpeg' ? await doc.embedJpg(encoded.data) : await doc.embedPng(encoded.data);
  addImagePage(
    doc,
    embedded.ref,
    { width: encoded.info.width, height: encoded.info.height, aspect },
    options.paper,
  );
}

async function openImage(bytes: Buffer, format: ImageFormat | 'tiff', page = 0): Promise<Sharp> {
  const decoded: RawImage | null =
    format === 'bmp'
      ? decodeBmp(bytes, MAX_INPUT_PIXELS)
      : format === 'heic'
        ? await decodeHeic(bytes, MAX_INPUT_PIXELS)
        : null;
  try {
    if (decoded) {
      const { width, height, data } = decoded;
      return sharp(data, { raw: { width, height, channels: 4 }, limitInputPixels: MAX_INPUT_PIXELS });
    }
    // failOn 'error' accepts the small defects real scanners and cameras produce (a truncated JPEG tail) but not
    // a file that cannot be decoded at all.
    return sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', page });
  } catch (error) {
    throw toConvertError(error, 'image');
  }
}

/** Width and height after the EXIF orientation is applied (orientations 5–8 swap them). */
function orientedSize(metadata: Metadata): { width: number; height: number } {
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  return (metadata.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
}
