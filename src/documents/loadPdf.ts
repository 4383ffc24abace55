import { PDFDocument } from 'pdf-lib';

import type { Logger } from '../log.js';
import { withPdfLibWarningsRedirected } from './redirectPdfLibWarnings.js';

/**
 * One place that calls `PDFDocument.load`, so every caller gets the same options, the same quiet console and the
 * same reading of pdf-lib's errors.
 */
export type LoadedPdf =
  { kind: 'loaded'; doc: PDFDocument } | { kind: 'encrypted' } | { kind: 'unreadable'; reason: string };

/**
 * pdf-lib 1.17.1's EncryptedPDFError fails `instanceof` (ES5 subclassing of Error; docs/dependencies.md,
 * pdf-lib), so the message is the only reliable sign. Its text is "Input document to `PDFDocument.load` is
 * encrypted...".
 */
const ENCRYPTED_MESSAGE = /\bis encrypted\b/;

export async function loadPdf(bytes: Uint8Array, log?: Logger): Promise<LoadedPdf> {
  try {
    // updateMetadata:false keeps the producer and dates as the sender made them; the file may be faxed as is.
    const doc = await withPdfLibWarningsRedirected(log, () =>
      PDFDocument.load(bytes, { updateMetadata: false }),
    );
    return { kind: 'loaded', doc };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (ENCRYPTED_MESSAGE.test(message)) return { kind: 'encrypted' };
    // Malformed input also surfaces as a plain TypeError from deep inside the parser: all of it means "unreadable".
    return { kind: 'unreadable', reason: message };
  }
}

/** Counts pages by walking the page tree; null when the tree is broken (a dangling or looping /Kids entry). */
export function tryCountPages(doc: PDFDocument): number | null {
  try {
    return doc.getPageCount();
  } catch {
    return null;
  }
}
