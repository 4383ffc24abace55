import {
  concatTransformationMatrix,
  drawObject,
  type PDFDocument,
  type PDFRef,
  popGraphicsState,
  pushGraphicsState,
} from 'pdf-lib';

import { type Matrix, multiply } from './pageContent.js';
import { IMAGE_MARGIN, type Paper, PAPER_SIZES, placementMatrix, placeOnPaper } from './paper.js';

/**
 * One image on one page of fax paper: turned upright when landscape, scaled to fit inside the margin (up or down:
 * a photo's pixel count says nothing about its print size), centred. `aspect` is the physical height of a pixel
 * relative to its width; fax TIFFs in normal resolution have pixels twice as tall as wide (204×98 dpi).
 */
export function addImagePage(
  doc: PDFDocument,
  image: PDFRef,
  size: { width: number; height: number; aspect?: number },
  paper: Paper,
): void {
  const width = size.width;
  const height = size.height * (size.aspect ?? 1);
  const placement = placeOnPaper(width, height, paper, { margin: IMAGE_MARGIN, allowUpscale: true });
  const paperSize = PAPER_SIZES[paper];
  const page = doc.addPage([paperSize.width, paperSize.height]);
  const name = page.node.newXObject('Image', image);
  // An image XObject fills the unit square; stretch it to the content size, then place that on the page.
  const matrix: Matrix = multiply([width, 0, 0, height, 0, 0], placementMatrix(placement, height));
  page.pushOperators(
    pushGraphicsState(),
    concatTransformationMatrix(...matrix),
    drawObject(name),
    popGraphicsState(),
  );
}

/** Largest pixel size worth keeping for a photo on a fax page: fine fax is 204×196 dpi, so 300 dpi is plenty. */
export function maxPixelsFor(width: number, height: number, paper: Paper): { width: number; height: number } {
  const placement = placeOnPaper(width, height, paper, { margin: IMAGE_MARGIN, allowUpscale: true });
  const dotsPerPoint = 300 / 72;
  // On a turned page the image's own width runs along the paper's height.
  const along = placement.rotate ? placement.height : placement.width;
  const across = placement.rotate ? placement.width : placement.height;
  return { width: Math.ceil(along * dotsPerPoint), height: Math.ceil(across * dotsPerPoint) };
}
