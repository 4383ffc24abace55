import { degrees, type PDFDocument, type PDFPage, rgb } from 'pdf-lib';

import type { FontSet } from './fonts.js';

/** The values a header line may show; `page` is counted by the stamper. */
export interface HeaderValues {
  date: string;
  time: string;
  from_name: string;
  from_number: string;
  to_number: string;
}

/** Height of the band above each page's content, in points: a 9 pt line with room around it (1/4 inch). */
export const HEADER_BAND = 18;
const FONT_SIZE = 9;
const MIN_FONT_SIZE = 5;
const SIDE_MARGIN = 18;

/** Fills `{placeholder}`s; unknown ones stay as written (the config check refuses them anyway). */
export function fillHeaderText(
  template: string,
  values: HeaderValues & { page: number; pages: number },
): string {
  const table: Record<string, string> = {
    ...values,
    page: String(values.page),
    pages: String(values.pages),
  };
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => table[name] ?? whole);
}

/**
 * Copies every page of `sources` into `out` as a picture of itself (a form XObject), scaled down uniformly and
 * centred so that a band of HEADER_BAND points is free at the top, and writes the header line in that band: what
 * the page showed is all still there, only smaller (about 2% on Letter), never covered or cropped. The page keeps
 * its visible size (its crop box) and its rotation is applied, so what the recipient gets is upright as the sender
 * saw it. With `text` null the pages are copied unscaled and unmarked.
 */
export async function stampPages(
  out: PDFDocument,
  sources: readonly PDFDocument[],
  text: string | null,
  values: HeaderValues,
  fonts: FontSet | null,
): Promise<number> {
  const pages = sources.reduce((sum, doc) => sum + doc.getPageCount(), 0);
  let number = 0;
  for (const source of sources) {
    for (const page of source.getPages()) {
      number += 1;
      const line = text === null ? null : fillHeaderText(text, { ...values, page: number, pages });
      await copyPage(out, page, line, fonts);
    }
  }
  return pages;
}

async function copyPage(out: PDFDocument, page: PDFPage, line: string | null, fonts: FontSet | null) {
  const box = page.getCropBox();
  const angle = (((page.getRotation().angle % 360) + 360) % 360) as 0 | 90 | 180 | 270;
  const turned = angle === 90 || angle === 270;
  const width = turned ? box.height : box.width;
  const height = turned ? box.width : box.height;
  const target = out.addPage([width, height]);
  // A blank page has no content stream, and pdf-lib refuses to embed one: there is nothing to draw but the line.
  if (page.node.Contents() === undefined) {
    if (line !== null && fonts) drawLine(target, line, width, height, fonts);
    return;
  }
  const embedded = await out.embedPage(page, {
    left: box.x,
    bottom: box.y,
    right: box.x + box.width,
    top: box.y + box.height,
  });
  const scale = line === null ? 1 : Math.max(0.5, (height - HEADER_BAND) / height);
  const drawnWidth = width * scale;
  const drawnHeight = height * scale;
  const x = (width - drawnWidth) / 2;
  // A page shown rotated clockwise by `angle` is drawn rotated counter-clockwise about the corner that then
  // lies at the origin, so it lands upright in the box [x, x+drawnWidth] × [0, drawnHeight].
  const origin = {
    0: { x, y: 0 },
    90: { x, y: drawnHeight },
    180: { x: x + drawnWidth, y: drawnHeight },
    270: { x: x + drawnWidth, y: 0 },
  }[angle];
  target.drawPage(embedded, {
    x: origin.x,
    y: origin.y,
    xScale: scale,
    yScale: scale,
    rotate: degrees(-angle),
  });
  if (line !== null && fonts) drawLine(target, line, width, height, fonts);
}

function drawLine(page: PDFPage, line: string, width: number, height: number, fonts: FontSet): void {
  const room = width - 2 * SIDE_MARGIN;
  let size = FONT_SIZE;
  const natural = fonts.width(line, size);
  // A long line (a long name, a narrow page) is set smaller rather than cut: every value must stay legible.
  if (natural > room) size = Math.max(MIN_FONT_SIZE, (size * room) / natural);
  let x = SIDE_MARGIN;
  const y = height - HEADER_BAND + (HEADER_BAND - size) / 2 + 1;
  for (const run of fonts.runs(line)) {
    page.drawText(run.text, { x, y, size, font: run.font, color: rgb(0, 0, 0) });
    x += run.font.widthOfTextAtSize(run.text, size);
  }
}
