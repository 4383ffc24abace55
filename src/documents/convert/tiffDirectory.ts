import { ConvertError } from './convertErrors.js';

/**
 * Reads the directory (IFD) of every page of a TIFF: size, bit depth and resolution. sharp decodes the pixels, but
 * does not report each page's X and Y resolution separately, and fax TIFFs need both: a "normal" resolution fax is
 * 204×98 dpi, so drawn with square pixels it would come out squashed to half its height.
 */
export interface TiffPage {
  width: number;
  height: number;
  bitsPerSample: number;
  samplesPerPixel: number;
  /** Dots per unit across and down; equal when unknown. */
  xResolution: number;
  yResolution: number;
}

const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  samplesPerPixel: 277,
  xResolution: 282,
  yResolution: 283,
} as const;

const TYPE_SIZES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};

export function readTiffPages(bytes: Buffer, maxPages: number): TiffPage[] {
  if (bytes.length < 8) throw new ConvertError('unreadable', 'the TIFF file is truncated');
  const little = bytes[0] === 0x49;
  const u16 = (at: number) => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const pages: TiffPage[] = [];
  const seen = new Set<number>();
  let offset = u32(4);
  while (offset !== 0) {
    if (seen.has(offset) || offset + 2 > bytes.length) {
      // A loop in the page chain, or a pointer past the end: keep the pages read so far, if any.
      if (pages.length > 0) break;
      throw new ConvertError('unreadable', 'the TIFF file is damaged');
    }
    seen.add(offset);
    if (pages.length >= maxPages) {
      throw new ConvertError('too_large', `the TIFF file has more than ${maxPages} pages`);
    }
    const count = u16(offset);
    const values = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12;
      if (entry + 12 > bytes.length) break;
      const tag = u16(entry);
      const type = u16(entry + 2);
      const valueAt = (TYPE_SIZES[type] ?? 4) * u32(entry + 4) > 4 ? u32(entry + 8) : entry + 8;
      if (valueAt + 8 > bytes.length && type === 5) continue;
      if (type === 3) values.set(tag, u16(valueAt));
      else if (type === 4) values.set(tag, u32(valueAt));
      else if (type === 5) values.set(tag, u32(valueAt) / (u32(valueAt + 4) || 1));
    }
    const xResolution = values.get(TAG.xResolution) || 0;
    const yResolution = values.get(TAG.yResolution) || 0;
    pages.push({
      width: values.get(TAG.width) ?? 0,
      height: values.get(TAG.height) ?? 0,
      bitsPerSample: values.get(TAG.bitsPerSample) ?? 1,
      samplesPerPixel: values.get(TAG.samplesPerPixel) ?? 1,
      xResolution: xResolution || yResolution || 1,
      yResolution: yResolution || xResolution || 1,
    });
    const next = offset + 2 + count * 12;
    offset = next + 4 <= bytes.length ? u32(next) : 0;
  }
  return pages;
}
