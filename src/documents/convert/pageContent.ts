import {
  clip,
  concatTransformationMatrix,
  endPath,
  PDFContentStream,
  type PDFOperator,
  type PDFPage,
  popGraphicsState,
  pushGraphicsState,
  rectangle,
} from 'pdf-lib';

/**
 * Small helpers for changing a page's content streams in place without re-parsing them: wrap the existing streams
 * between two new ones, or append one. The content itself is never decoded, so a PDF is not rasterised or
 * re-encoded on its way to the fax.
 */

export type Matrix = [number, number, number, number, number, number];

/** `first` then `second`, in PDF's row-vector convention (the order `cm` operators apply in). */
export function multiply(first: Matrix, second: Matrix): Matrix {
  const [a1, b1, c1, d1, e1, f1] = first;
  const [a2, b2, c2, d2, e2, f2] = second;
  return [
    a1 * a2 + b1 * c2,
    a1 * b2 + b1 * d2,
    c1 * a2 + d1 * c2,
    c1 * b2 + d1 * d2,
    e1 * a2 + f1 * c2 + e2,
    e1 * b2 + f1 * d2 + f2,
  ];
}

function register(page: PDFPage, operators: PDFOperator[]) {
  const stream = PDFContentStream.of(page.doc.context.obj({}), operators);
  return page.doc.context.register(stream);
}

/**
 * Puts the existing content inside `q … Q`, optionally transformed and clipped to `clipBox` (in the content's own
 * coordinates). The save/restore pair also keeps whatever graphics state the original leaves behind from leaking
 * into what is appended after it.
 */
export function wrapPageContent(
  page: PDFPage,
  matrix?: Matrix,
  clipBox?: { x: number; y: number; width: number; height: number },
): void {
  const start: PDFOperator[] = [pushGraphicsState()];
  if (matrix) start.push(concatTransformationMatrix(...matrix));
  if (clipBox) start.push(rectangle(clipBox.x, clipBox.y, clipBox.width, clipBox.height), clip(), endPath());
  page.node.normalize();
  if (!page.node.Contents()) {
    page.node.set(page.doc.context.obj('Contents'), page.doc.context.obj([]));
  }
  page.node.wrapContentStreams(register(page, start), register(page, [popGraphicsState()]));
}

/** Adds a content stream after the existing ones. */
export function appendPageContent(page: PDFPage, operators: PDFOperator[]): void {
  page.node.normalize();
  page.node.addContentStream(register(page, operators));
}
