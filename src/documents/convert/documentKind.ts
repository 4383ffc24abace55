/**
 * The kinds of attachment faxbridge recognises by their bytes, and what becomes of each. `office` carries the file
 * extension LibreOffice and Gotenberg expect, since both choose their import filter partly by the name.
 */
export type OfficeFormat = 'doc' | 'docx' | 'odt' | 'rtf' | 'xls' | 'xlsx' | 'ods' | 'ppt' | 'pptx' | 'odp';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp' | 'webp' | 'heic' | 'avif';

export type DocumentKind =
  | {
      kind: 'pdf';
      /** Bytes before `%PDF-` (a BOM, blank lines, a printer's PJL header) to cut off. */ offset: number;
    }
  | { kind: 'tiff' }
  | { kind: 'image'; format: ImageFormat }
  | { kind: 'text' }
  | { kind: 'office'; format: OfficeFormat }
  | { kind: 'tnef' }
  | { kind: 'archive'; format: 'zip' | 'rar' | '7z' }
  | { kind: 'encrypted'; format: 'smime' | 'pgp' }
  /** An opaque-signed S/MIME blob (smime.p7m signed-data): the document is the content inside the signature. */
  | { kind: 'smime-signed' }
  | { kind: 'unknown' };

/** The sentence that follows the file name when a kind is refused on purpose. */
export const REFUSAL_ADVICE = {
  archive: 'is an archive; attach the files themselves',
  encrypted: 'is encrypted; send it unencrypted',
  officeOff: 'is an Office file and this fax service does not convert those; print it to PDF and attach that',
  unknown: 'is not a document this fax service can send; attach a PDF, a photo, a scan or an Office file',
} as const;
