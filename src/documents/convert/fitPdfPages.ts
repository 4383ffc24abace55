import { degrees, type PDFDocument, PDFName, type PDFPage } from 'pdf-lib';

import { type Matrix, multiply, wrapPageContent } from './pageContent.js';
import { isPaperSized, type Paper, PAPER_SIZES, placementMatrix, placeOnPaper } from './paper.js';

/**
 * Redraws every page onto the fax paper: portrait, landscape pages turned upright, larger pages scaled down to fit
 * whole, smaller ones centred at their own size. The page's content is wrapped in a transformation and a clip to
 * its visible box; nothing is rasterised. Pages already the paper size and upright are left untouched.
 */
export function fitPdfPages(doc: PDFDocument, paper: Paper): void {
  for (const page of doc.getPages()) fitPage(page, paper);
}

/** True when the page is already the paper, upright, its visible box at the origin: it is left as it is. */
export function pageFitsPaper(page: PDFPage, paper: Paper): boolean {
  const box = page.getCropBox();
  return rotationOf(page) === 0 && box.x === 0 && box.y === 0 && isPaperSized(box.width, box.height, paper);
}

function rotationOf(page: PDFPage): 0 | 90 | 180 | 270 {
  return (((page.getRotation().angle % 360) + 360) % 360) as 0 | 90 | 180 | 270;
}

function fitPage(page: PDFPage, paper: Paper): void {
  if (pageFitsPaper(page, paper)) return;
  const box = page.getCropBox();
  const rotation = rotationOf(page);
  const turned = rotation === 90 || rotation === 270;
  const visibleWidth = turned ? box.height : box.width;
  const visibleHeight = turned ? box.width : box.height;

  // Content coordinates → visible page (origin at its lower-left, /Rotate applied clockwise as viewers do) →
  // placement on the paper.
  const toOrigin: Matrix = [1, 0, 0, 1, -box.x, -box.y];
  const placement = placeOnPaper(visibleWidth, visibleHeight, paper, { margin: 0, allowUpscale: false });
  const matrix = multiply(
    multiply(toOrigin, rotationMatrix(rotation, box.width, box.height)),
    placementMatrix(placement, visibleHeight),
  );
  wrapPageContent(page, matrix, box);

  const size = PAPER_SIZES[paper];
  page.setMediaBox(0, 0, size.width, size.height);
  page.setCropBox(0, 0, size.width, size.height);
  for (const key of ['BleedBox', 'TrimBox', 'ArtBox']) page.node.delete(PDFName.of(key));
  page.setRotation(degrees(0));
  // Annotations were drawn into the content already (flattenAnnotations); their /Rect would now be wrong.
  page.node.delete(PDFName.of('Annots'));
}

/** /Rotate turns the page clockwise for display; this maps a width×height box onto the turned page. */
function rotationMatrix(rotation: 0 | 90 | 180 | 270, width: number, height: number): Matrix {
  switch (rotation) {
    case 90:
      return [0, -1, 1, 0, 0, width];
    case 180:
      return [-1, 0, 0, -1, width, height];
    case 270:
      return [0, 1, -1, 0, height, 0];
    default:
      return [1, 0, 0, 1, 0, 0];
  }
}
