import { ConvertError } from './convertErrors.js';
import { convertImage } from './convertImage.js';
import { convertOfficeGotenberg } from './convertOfficeGotenberg.js';
import { convertOfficeLocal } from './convertOfficeLocal.js';
import type { ConvertOptions, ConvertResult } from './convertOptions.js';
import { convertPdf } from './convertPdf.js';
import { convertText } from './convertText.js';
import { convertTiff } from './convertTiff.js';
import { type DocumentKind, REFUSAL_ADVICE } from './documentKind.js';

/**
 * One entry for every kind of attachment: file in, PDF on the fax paper out. Kinds that are not pages (a
 * winmail.dat holds files, to be unwrapped with readTnef and each converted in turn; an opaque-signed S/MIME blob
 * holds a message) and kinds refused on purpose throw with the sentence to put after the file name.
 */
export interface DocumentConvertOptions extends ConvertOptions {
  /** documents.office: `local`, `off`, or the http(s) URL of a Gotenberg service. */
  office: string;
  /** For tests: another LibreOffice launcher than `soffice` on the PATH. */
  sofficePath?: string;
}

export async function convertDocument(
  kind: DocumentKind,
  inputPath: string,
  outputPath: string,
  options: DocumentConvertOptions,
): Promise<ConvertResult> {
  switch (kind.kind) {
    case 'pdf':
      return convertPdf(inputPath, outputPath, options);
    case 'tiff':
      return convertTiff(inputPath, outputPath, options);
    case 'image':
      return convertImage(inputPath, outputPath, { ...options, format: kind.format });
    case 'text':
      return convertText(inputPath, outputPath, options);
    case 'office':
      if (options.office === 'off') throw new ConvertError('unsupported', REFUSAL_ADVICE.officeOff);
      if (/^https?:\/\//i.test(options.office)) {
        return convertOfficeGotenberg(inputPath, outputPath, {
          ...options,
          format: kind.format,
          url: options.office,
        });
      }
      return convertOfficeLocal(inputPath, outputPath, { ...options, format: kind.format });
    case 'archive':
      throw new ConvertError('unsupported', REFUSAL_ADVICE.archive);
    case 'encrypted':
      throw new ConvertError('unsupported', REFUSAL_ADVICE.encrypted);
    case 'tnef':
    case 'smime-signed':
      throw new ConvertError('unsupported', `holds other files; unwrap it before converting (${kind.kind})`);
    default:
      throw new ConvertError('unsupported', REFUSAL_ADVICE.unknown);
  }
}
