import {
  concatTransformationMatrix,
  drawObject,
  PDFArray,
  PDFDict,
  type PDFDocument,
  PDFName,
  PDFNumber,
  type PDFPage,
  PDFRef,
  PDFStream,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';

import { appendPageContent, type Matrix, multiply, wrapPageContent } from './pageContent.js';

/**
 * Makes what a viewer shows on top of a page part of the page itself: filled form fields, stamps, ink signatures,
 * comments' icons. A fax machine prints only page content, and pages are later redrawn onto the paper size, which
 * drops annotations; so each printable annotation's normal appearance is drawn into the content where its /Rect
 * says (PDF 2.0 §12.5.5, "Algorithm: appearance streams"), and the annotations are removed.
 *
 * Form fields go first through pdf-lib's own `form.flatten()`, which also builds appearances for filled fields
 * that have none yet. It throws on some damaged forms; the generic pass below still draws whatever appearances
 * exist then.
 */

const HIDDEN = 1 << 1;
const PRINT = 1 << 2;

export function flattenAnnotations(doc: PDFDocument): void {
  try {
    doc.getForm().flatten();
  } catch {
    // A damaged or unusual form: fall through to drawing the existing widget appearances one by one.
  }
  for (const page of doc.getPages()) flattenPage(page);
}

/**
 * True when the page has something to flatten: a form field (whose value may not have an appearance yet) or an
 * annotation that prints. Links and hidden notes do not count, so an ordinary exported PDF is not rewritten.
 */
export function needsFlattening(page: PDFPage): boolean {
  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) return false;
  for (let i = 0; i < annots.size(); i++) {
    const annot = page.doc.context.lookupMaybe(annots.get(i), PDFDict);
    if (!annot) continue;
    if (annot.lookupMaybe(PDFName.of('Subtype'), PDFName) === PDFName.of('Widget')) return true;
    if (printableAppearance(page, annot)) return true;
  }
  return false;
}

function flattenPage(page: PDFPage): void {
  const annots = page.node.lookupMaybe(PDFName.of('Annots'), PDFArray);
  if (!annots) return;
  const draws: { name: PDFName; matrix: Matrix }[] = [];
  for (let i = 0; i < annots.size(); i++) {
    const annot = page.doc.context.lookupMaybe(annots.get(i), PDFDict);
    if (!annot) continue;
    const appearance = printableAppearance(page, annot);
    if (!appearance) continue;
    const matrix = appearanceMatrix(page, annot, appearance.stream);
    if (!matrix) continue;
    draws.push({ name: page.node.newXObject('FlatAnnot', appearance.ref), matrix });
  }
  page.node.delete(PDFName.of('Annots'));
  if (draws.length === 0) return;
  wrapPageContent(page);
  appendPageContent(
    page,
    draws.flatMap(({ name, matrix }) => [
      pushGraphicsState(),
      concatTransformationMatrix(...matrix),
      drawObject(name),
      popGraphicsState(),
    ]),
  );
}

function printableAppearance(page: PDFPage, annot: PDFDict): { ref: PDFRef; stream: PDFStream } | null {
  const subtype = annot.lookupMaybe(PDFName.of('Subtype'), PDFName);
  if (subtype === PDFName.of('Popup')) return null;
  const flags = annot.lookupMaybe(PDFName.of('F'), PDFNumber)?.asNumber() ?? 0;
  if (flags & HIDDEN || !(flags & PRINT)) return null;
  const ap = annot.lookupMaybe(PDFName.of('AP'), PDFDict);
  let normal = ap?.get(PDFName.of('N'));
  const states = normal instanceof PDFRef ? page.doc.context.lookup(normal) : normal;
  if (states instanceof PDFDict && !(states instanceof PDFStream)) {
    // A checkbox or radio button: one appearance per state, chosen by /AS.
    const state = annot.lookupMaybe(PDFName.of('AS'), PDFName);
    normal = state ? states.get(state) : undefined;
  }
  if (!(normal instanceof PDFRef)) return null;
  const stream = page.doc.context.lookup(normal);
  return stream instanceof PDFStream ? { ref: normal, stream } : null;
}

/** Maps the appearance's BBox (after its own /Matrix, which `Do` applies anyway) onto the annotation's /Rect. */
function appearanceMatrix(page: PDFPage, annot: PDFDict, stream: PDFStream): Matrix | null {
  const rect = numbers(annot.lookupMaybe(PDFName.of('Rect'), PDFArray), 4);
  const bbox = numbers(stream.dict.lookupMaybe(PDFName.of('BBox'), PDFArray), 4);
  if (!rect || !bbox) return null;
  stream.dict.set(PDFName.of('Type'), PDFName.of('XObject'));
  stream.dict.set(PDFName.of('Subtype'), PDFName.of('Form'));
  const own = (numbers(stream.dict.lookupMaybe(PDFName.of('Matrix'), PDFArray), 6) ?? [
    1, 0, 0, 1, 0, 0,
  ]) as Matrix;
  const corners = [
    [bbox[0]!, bbox[1]!],
    [bbox[2]!, bbox[1]!],
    [bbox[0]!, bbox[3]!],
    [bbox[2]!, bbox[3]!],
  ].map(([x, y]) => multiply([1, 0, 0, 1, x!, y!], own));
  const xs = corners.map((m) => m[4]);
  const ys = corners.map((m) => m[5]);
  const box = {
    x: Math.min(...xs),
    y: Math.min(...ys),
    w: Math.max(...xs) - Math.min(...xs),
    h: Math.max(...ys) - Math.min(...ys),
  };
  const rectX = Math.min(rect[0]!, rect[2]!);
  const rectY = Math.min(rect[1]!, rect[3]!);
  const sx = box.w > 0 ? Math.abs(rect[2]! - rect[0]!) / box.w : 1;
  const sy = box.h > 0 ? Math.abs(rect[3]! - rect[1]!) / box.h : 1;
  return [sx, 0, 0, sy, rectX - box.x * sx, rectY - box.y * sy];
}

function numbers(array: PDFArray | undefined, count: number): number[] | null {
  if (!array || array.size() < count) return null;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = array.lookup(i);
    if (!(value instanceof PDFNumber)) return null;
    values.push(value.asNumber());
  }
  return values;
}
