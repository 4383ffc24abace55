import { ConvertError } from './convertErrors.js';

/**
 * A small decoder for Windows BMP, which sharp's prebuilt libvips does not read (it would need ImageMagick).
 * Covers what scanners and Paint write: 1-, 4- and 8-bit palettes, 16-, 24- and 32-bit colour, uncompressed or with
 * bit-field masks, bottom-up or top-down. RLE-compressed BMPs are rare and refused as unsupported.
 */
export interface RawImage {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel, rows top to bottom. */
  data: Buffer;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function decodeBmp(bytes: Buffer, maxPixels: number): RawImage {
  if (bytes.length < 26) throw new ConvertError('unreadable', 'the BMP image is truncated');
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  const os2 = headerSize === 12;
  const width = os2 ? bytes.readUInt16LE(18) : bytes.readInt32LE(18);
  const rawHeight = os2 ? bytes.readInt16LE(20) : bytes.readInt32LE(22);
  const bitCount = bytes.readUInt16LE(os2 ? 24 : 28);
  const compression = os2 ? BI_RGB : bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0) throw new ConvertError('unreadable', 'the BMP image has no pixels');
  if (width * height > maxPixels) {
    throw new ConvertError('too_large', `the BMP image is ${width}×${height} pixels, too large to fax`);
  }
  if (![BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS].includes(compression)) {
    throw new ConvertError(
      'unsupported',
      'is a compressed (RLE) BMP; save it as PNG or JPEG and attach that',
    );
  }
  const masks = colourMasks(bytes, headerSize, bitCount, compression);
  const palette = readPalette(bytes, headerSize, bitCount, os2);
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  if (dataOffset + stride * height > bytes.length)
    throw new ConvertError('unreadable', 'the BMP image is truncated');

  const data = Buffer.alloc(width * height * 4);
  for (let row = 0; row < height; row++) {
    const source = dataOffset + stride * (topDown ? row : height - 1 - row);
    for (let x = 0; x < width; x++) {
      const out = (row * width + x) * 4;
      if (bitCount <= 8) {
        const bitOffset = x * bitCount;
        const byte = bytes[source + (bitOffset >> 3)]!;
        const index = (byte >> (8 - bitCount - (bitOffset & 7))) & ((1 << bitCount) - 1);
        const colour = palette[index] ?? [0, 0, 0];
        data[out] = colour[0];
        data[out + 1] = colour[1];
        data[out + 2] = colour[2];
        data[out + 3] = 255;
      } else if (bitCount === 24) {
        data[out] = bytes[source + x * 3 + 2]!;
        data[out + 1] = bytes[source + x * 3 + 1]!;
        data[out + 2] = bytes[source + x * 3]!;
        data[out + 3] = 255;
      } else {
        const value =
          bitCount === 16 ? bytes.readUInt16LE(source + x * 2) : bytes.readUInt32LE(source + x * 4);
        data[out] = channel(value, masks.red);
        data[out + 1] = channel(value, masks.green);
        data[out + 2] = channel(value, masks.blue);
        data[out + 3] = masks.alpha ? channel(value, masks.alpha) : 255;
      }
    }
  }
  return { width, height, data };
}

function colourMasks(bytes: Buffer, headerSize: number, bitCount: number, compression: number) {
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const at = 14 + 40;
    return {
      red: bytes.readUInt32LE(at),
      green: bytes.readUInt32LE(at + 4),
      blue: bytes.readUInt32LE(at + 8),
      alpha: headerSize >= 56 || compression === BI_ALPHABITFIELDS ? bytes.readUInt32LE(at + 12) : 0,
    };
  }
  if (bitCount === 16) return { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 };
  // Plain 32-bit BMP: the fourth byte is unused padding in most files, so alpha is not trusted.
  return { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0 };
}

function readPalette(
  bytes: Buffer,
  headerSize: number,
  bitCount: number,
  os2: boolean,
): [number, number, number][] {
  if (bitCount > 8) return [];
  const entrySize = os2 ? 3 : 4;
  const used = os2 ? 0 : bytes.readUInt32LE(46);
  const count = Math.min(used || 1 << bitCount, 256);
  const palette: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const at = 14 + headerSize + i * entrySize;
    if (at + 3 > bytes.length) break;
    palette.push([bytes[at + 2]!, bytes[at + 1]!, bytes[at]!]);
  }
  return palette;
}

function channel(value: number, mask: number): number {
  if (mask === 0) return 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return Math.round((((value & mask) >>> shift) * 255) / max);
}
