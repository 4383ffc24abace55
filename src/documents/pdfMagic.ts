/**
 * What makes bytes a PDF for faxbridge (docs/behaviour.md §3 "The document"): `%PDF-` starting within the
 * first 1024 bytes, whatever the MIME type, disposition or file name said. Readers accept a header that late
 * (PDF 1.7 §7.5.2 and Acrobat's implementation note 13), because some generators put junk such as a BOM or
 * mail gateway banner first.
 */
export const PDF_HEADER_WINDOW = 1024;
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

/** How many leading bytes a caller must collect before `hasPdfMagic` can give a final answer. */
export const PDF_SNIFF_BYTES = PDF_HEADER_WINDOW + PDF_MAGIC.length - 1;

export function hasPdfMagic(head: Uint8Array): boolean {
  const window = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, PDF_SNIFF_BYTES));
  return window.indexOf(PDF_MAGIC) !== -1;
}
