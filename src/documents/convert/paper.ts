/**
 * Paper sizes in PDF points (1/72 in) and the one rule for placing content on them: portrait paper, content turned
 * upright when it is landscape, scaled to fit inside the margin without cropping, centred. Fax machines print
 * portrait only, so a landscape page sent as is would be shrunk to a third of its area by the receiving machine.
 */
export type Paper = 'letter' | 'a4';

export const PAPER_SIZES: Readonly<Record<Paper, { width: number; height: number }>> = {
  letter: { width: 612, height: 792 },
  a4: { width: 595.28, height: 841.89 },
};

/** A quarter inch: fax machines do not print the outermost few millimetres of a page. */
export const IMAGE_MARGIN = 18;

/** Pages within this many points of the paper size are left exactly as they are. */
const SIZE_TOLERANCE = 2;

export interface Placement {
  /** Degrees the content is turned counter-clockwise: 0 for portrait content, 90 for landscape. */
  rotate: 0 | 90;
  scale: number;
  /** Where the content's lower-left corner (after turning) lands on the page, in points. */
  x: number;
  y: number;
  /** The content's size on the page after turning and scaling. */
  width: number;
  height: number;
}

/**
 * Fits content of `width`×`height` (in its own units) onto the paper. `allowUpscale` is for photos and scans,
 * whose pixel size says nothing about their intended print size; documents keep their size when they fit.
 */
export function placeOnPaper(
  width: number,
  height: number,
  paper: Paper,
  options: { margin: number; allowUpscale: boolean },
): Placement {
  const page = PAPER_SIZES[paper];
  const rotate = width > height ? 90 : 0;
  const uprightWidth = rotate ? height : width;
  const uprightHeight = rotate ? width : height;
  const room = { width: page.width - 2 * options.margin, height: page.height - 2 * options.margin };
  let scale = Math.min(room.width / uprightWidth, room.height / uprightHeight);
  if (!options.allowUpscale) scale = Math.min(scale, 1);
  const placedWidth = uprightWidth * scale;
  const placedHeight = uprightHeight * scale;
  return {
    rotate,
    scale,
    x: (page.width - placedWidth) / 2,
    y: (page.height - placedHeight) / 2,
    width: placedWidth,
    height: placedHeight,
  };
}

/** True when a page of this visible size is already the paper, portrait. */
export function isPaperSized(width: number, height: number, paper: Paper): boolean {
  const page = PAPER_SIZES[paper];
  return Math.abs(width - page.width) <= SIZE_TOLERANCE && Math.abs(height - page.height) <= SIZE_TOLERANCE;
}

/**
 * The transformation matrix [a b c d e f] that maps content coordinates (origin at the content's lower-left corner,
 * `width`×`height` in its own units) to the placement on the page.
 */
export function placementMatrix(
  placement: Placement,
  contentHeight: number,
): [number, number, number, number, number, number] {
  const s = placement.scale;
  if (placement.rotate === 0) return [s, 0, 0, s, placement.x, placement.y];
  // Turned 90° counter-clockwise: content x runs up the page, content y runs right to left, so the content's top
  // edge faces the left side of the paper, as printers turn landscape pages.
  return [0, s, -s, 0, placement.x + contentHeight * s, placement.y];
}
