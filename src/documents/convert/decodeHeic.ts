import decodeHeicImages from 'heic-decode';

import { ConvertError } from './convertErrors.js';
import type { RawImage } from './decodeBmp.js';

/**
 * HEIC (iPhone photos) is HEVC inside HEIF. sharp's prebuilt libvips reads HEIF but carries only the AV1 decoder
 * (AVIF), not HEVC, for patent reasons; so HEIC goes through heic-decode, libheif with libde265 compiled to
 * JavaScript, shipped on npm with no native part. libheif applies the container's rotation and mirror itself, so
 * the pixels come out upright. The size is read from the container before anything is decoded.
 */
export async function decodeHeic(bytes: Buffer, maxPixels: number): Promise<RawImage> {
  let images: Awaited<ReturnType<typeof decodeHeicImages.all>>;
  try {
    images = await decodeHeicImages.all({ buffer: bytes });
  } catch (error) {
    throw new ConvertError('unreadable', 'the HEIC photo could not be read', { cause: error });
  }
  const primary = images[0];
  if (!primary) throw new ConvertError('unreadable', 'the HEIC file holds no image');
  if (primary.width * primary.height > maxPixels) {
    throw new ConvertError(
      'too_large',
      `the photo is ${primary.width}×${primary.height} pixels, too large to fax`,
    );
  }
  try {
    const { width, height, data } = await primary.decode();
    return { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  } catch (error) {
    throw new ConvertError('unreadable', 'the HEIC photo could not be decoded', { cause: error });
  }
}
