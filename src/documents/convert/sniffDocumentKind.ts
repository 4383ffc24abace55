import { open } from 'node:fs/promises';

import type { DocumentKind, ImageFormat, OfficeFormat } from './documentKind.js';
import { looksLikeText } from './looksLikeText.js';
import { centralDirectoryNames, peekZipEntries } from './zipEntries.js';

/**
 * Recognises an attachment by its bytes, never by its declared type or name: mail clients and scanners label
 * parts wrongly all the time (a PDF as application/octet-stream, a TIFF as image/jpeg). Signatures at offset 0 are
 * checked before `%PDF-` is looked for further in, so a stored ZIP or a winmail.dat that happens to contain a PDF in
 * its first kilobyte is not mistaken for one.
 */

/** Enough for every signature and for the local ZIP headers of typical Office files. */
export const SNIFF_BYTES = 64 * 1024;
/** A PDF reader accepts `%PDF-` this far in (junk before it: a BOM, blank lines, a printer's PJL header). */
const PDF_WINDOW = 1024;
/** The tail of a ZIP read to find its central directory when the first entries did not tell. */
const ZIP_TAIL_BYTES = 256 * 1024;

const startsWith = (head: Buffer, bytes: number[], at = 0): boolean =>
  head.length >= at + bytes.length && bytes.every((byte, i) => head[at + i] === byte);
const ascii = (head: Buffer, text: string, at = 0): boolean =>
  head.length >= at + text.length && head.toString('latin1', at, at + text.length) === text;

export function sniffDocumentKind(head: Buffer, zipTail?: Buffer): DocumentKind {
  const image = sniffImage(head);
  if (image) return { kind: 'image', format: image };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'tiff' };
  }
  // TNEF: the 32-bit signature 0x223E9F78, little-endian.
  if (startsWith(head, [0x78, 0x9f, 0x3e, 0x22])) return { kind: 'tnef' };
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return { kind: 'office', format: oleFormat(head) };
  }
  if (ascii(head, '{\\rtf')) return { kind: 'office', format: 'rtf' };
  if (ascii(head, 'PK\x03\x04') || ascii(head, 'PK\x05\x06')) return zipKind(head, zipTail);
  if (ascii(head, 'Rar!\x1a\x07')) return { kind: 'archive', format: 'rar' };
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return { kind: 'archive', format: '7z' };
  const cms = sniffCms(head);
  if (cms) return cms;
  if (isPgp(head)) return { kind: 'encrypted', format: 'pgp' };
  const pdfAt = head.subarray(0, PDF_WINDOW + 4).indexOf('%PDF-', 0, 'latin1');
  if (pdfAt !== -1) return { kind: 'pdf', offset: pdfAt };
  if (looksLikeText(head)) return { kind: 'text' };
  return { kind: 'unknown' };
}

/** Whether a file of `size` bytes starting with `head` is a ZIP, whose kind needs its tail (central directory). */
export function needsZipTail(head: Buffer, size: number): boolean {
  return ascii(head, 'PK') && size > head.length;
}

/** Reads what `sniffDocumentKind` needs from a file: its head and, for a ZIP, its tail. */
export async function sniffDocumentFile(path: string): Promise<DocumentKind> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    await file.read(head, 0, head.length, 0);
    let tail: Buffer | undefined;
    if (needsZipTail(head, size)) {
      tail = Buffer.alloc(Math.min(ZIP_TAIL_BYTES, size));
      await file.read(tail, 0, tail.length, size - tail.length);
    }
    return sniffDocumentKind(head, tail);
  } finally {
    await file.close();
  }
}

function sniffImage(head: Buffer): ImageFormat | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 'GIF87a') || ascii(head, 'GIF89a')) return 'gif';
  // BMP: "BM", then the header size of a known DIB header at offset 14 (12, 40, 52, 56, 64, 108 or 124 bytes).
  if (
    ascii(head, 'BM') &&
    head.length >= 18 &&
    [12, 40, 52, 56, 64, 108, 124].includes(head.readUInt32LE(14))
  ) {
    return 'bmp';
  }
  if (ascii(head, 'RIFF') && ascii(head, 'WEBP', 8)) return 'webp';
  if (ascii(head, 'ftyp', 4)) return heifBrand(head);
  return null;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** ISO-BMFF `ftyp` box: major brand at 8, then compatible brands after the minor version until the box ends. */
function heifBrand(head: Buffer): ImageFormat | null {
  if (head.length < 16) return null;
  const boxEnd = Math.min(head.readUInt32BE(0), head.length);
  const brands = [head.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(head.toString('latin1', at, at + 4));
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  // mif1/msf1 alone: a HEIF still image whose codec the brands do not say; the HEIC decoder tells later.
  if (brands.includes('mif1') || brands.includes('msf1')) return 'heic';
  return null;
}

/**
 * An OLE2 compound file's directory names its streams in UTF-16: WordDocument, Workbook (or Book for Excel 5)
 * and "PowerPoint Document". The directory usually sits in the first sectors; without a match Word is assumed and
 * LibreOffice's own content detection takes over.
 */
function oleFormat(head: Buffer): OfficeFormat {
  const has = (name: string): boolean => head.indexOf(Buffer.from(name, 'utf16le')) !== -1;
  if (has('Workbook') || has('Book\0')) return 'xls';
  if (has('PowerPoint Document')) return 'ppt';
  return 'doc';
}

function zipKind(head: Buffer, tail: Buffer | undefined): DocumentKind {
  const entries = peekZipEntries(head);
  const mimetype = entries.find((entry) => entry.name === 'mimetype')?.stored?.toString('latin1') ?? '';
  const odf = odfFormat(mimetype);
  if (odf) return { kind: 'office', format: odf };
  // A small file is all in `head`, its central directory included.
  const names = [...entries.map((entry) => entry.name), ...centralDirectoryNames(tail ?? head)];
  if (names.includes('[Content_Types].xml')) {
    if (names.some((name) => name.startsWith('word/'))) return { kind: 'office', format: 'docx' };
    if (names.some((name) => name.startsWith('xl/'))) return { kind: 'office', format: 'xlsx' };
    if (names.some((name) => name.startsWith('ppt/'))) return { kind: 'office', format: 'pptx' };
  }
  return { kind: 'archive', format: 'zip' };
}

function odfFormat(mimetype: string): OfficeFormat | null {
  if (mimetype === 'application/vnd.oasis.opendocument.text') return 'odt';
  if (mimetype === 'application/vnd.oasis.opendocument.spreadsheet') return 'ods';
  if (mimetype === 'application/vnd.oasis.opendocument.presentation') return 'odp';
  return null;
}

/** DER OIDs of PKCS#7 content types (RFC 5652): envelopedData 1.2.840.113549.1.7.3, signedData …7.2. */
const OID_ENVELOPED = Buffer.from('06092a864886f70d010703', 'hex');
const OID_SIGNED = Buffer.from('06092a864886f70d010702', 'hex');
const OID_AUTH_ENVELOPED = Buffer.from('060b2a864886f70d0109100117', 'hex');

function sniffCms(head: Buffer): DocumentKind | null {
  if (head[0] !== 0x30) return null;
  // The content-type OID follows the outer SEQUENCE header within a few bytes.
  const start = head.subarray(0, 24);
  if (start.indexOf(OID_ENVELOPED) !== -1 || start.indexOf(OID_AUTH_ENVELOPED) !== -1) {
    return { kind: 'encrypted', format: 'smime' };
  }
  if (start.indexOf(OID_SIGNED) !== -1) return { kind: 'smime-signed' };
  return null;
}

/** ASCII-armoured PGP, or a binary message starting with a public-key encrypted session key packet (RFC 4880). */
function isPgp(head: Buffer): boolean {
  const text = head.toString('latin1', 0, 200);
  if (/-----BEGIN PGP MESSAGE-----/.test(text)) return true;
  const tag = head[0] ?? 0;
  // Old-format packet tag 1 with a 1-, 2- or 4-byte length, then version 3.
  if (tag === 0x84) return head[2] === 3;
  if (tag === 0x85) return head[3] === 3;
  if (tag === 0x86) return head[5] === 3;
  // New-format packet tag 1 (0xC1) with a one-byte length.
  if (tag === 0xc1) return head[2] === 3 && (head[1] ?? 0) < 192;
  return false;
}
