import type { DocumentKind } from './convert/documentKind.js';

/**
 * Decides whether a MIME part the sender attached is part of the fax, by what its bytes are (the sniffed kind)
 * and, for the few cases bytes cannot tell, by how the part was attached:
 * - an image with a Content-ID that is not marked as an attachment is decoration of the HTML body (a logo, a
 *   signature), not the document; the body itself is no longer kept whole, so "has a Content-ID" stands in
 *   for "is referenced by `cid:` from the HTML";
 * - text is a document only when the sender attached a text file (declared text/plain, or named `.txt`): CSV,
 *   calendar entries, vCards and PGP signatures are text too, and are not what anyone means to fax;
 * - detached signatures (S/MIME `.p7s`) and bytes no converter recognises are listed, not faxed.
 * Archives and encrypted parts count as documents so that the intake can refuse them with advice.
 */
export interface PartFacts {
  contentType: string;
  contentDisposition?: string;
  contentId?: string;
  filename?: string;
}

export type PartRole = 'document' | 'decoration' | 'other';

export function classifyPart(part: PartFacts, kind: DocumentKind): PartRole {
  switch (kind.kind) {
    case 'image':
      return isInlineDecoration(part) ? 'decoration' : 'document';
    case 'text':
      return isAttachedTextFile(part) ? 'document' : 'other';
    case 'smime-signed':
    case 'unknown':
      return 'other';
    default:
      return 'document';
  }
}

/** Decided before the bytes are saved (an image is recognised from its first bytes), so logos never touch disk. */
export function isInlineDecoration(part: PartFacts): boolean {
  return Boolean(part.contentId) && part.contentDisposition?.toLowerCase() !== 'attachment';
}

function isAttachedTextFile(part: PartFacts): boolean {
  return part.contentType.toLowerCase() === 'text/plain' || /\.txt$/i.test(part.filename ?? '');
}
