import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Looks at a PDF the way a recipient would: poppler's pdfinfo for page sizes and rotation, pdftoppm to render a
 * page in grey, pdftotext for the text. Needs Debian's poppler-utils.
 */
export interface PageInfo {
  width: number;
  height: number;
  rotate: number;
}

export function pdfPages(path: string): PageInfo[] {
  const out = execFileSync('pdfinfo', ['-f', '1', '-l', '10000', path], { encoding: 'utf8' });
  const sizes = [...out.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts/gm)];
  const rotations = [...out.matchAll(/^Page\s+\d+ rot:\s+(\d+)/gm)];
  return sizes.map((match, i) => ({
    width: Number(match[1]),
    height: Number(match[2]),
    rotate: Number(rotations[i]?.[1] ?? 0),
  }));
}

export function pdfText(path: string): string {
  return execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
}

export interface Rendered {
  width: number;
  height: number;
  /** One byte a pixel, 0 black … 255 white, rows top to bottom. */
  pixels: Buffer;
}

/** Renders one page (1-based) in grey at `dpi`. */
export function renderPage(path: string, page: number, dpi = 36): Rendered {
  const prefix = join(path, '..', `render-${process.pid}-${page}`);
  execFileSync('pdftoppm', [
    '-gray',
    '-r',
    String(dpi),
    '-f',
    String(page),
    '-l',
    String(page),
    '-singlefile',
    path,
    prefix,
  ]);
  const file = `${prefix}.pgm`;
  const data = readFileSync(file);
  rmSync(file);
  // Binary PGM: "P5\n<width> <height>\n<max>\n" then the pixels.
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.toString('latin1', 0, 64));
  if (!header) throw new Error('pdftoppm did not write a PGM');
  const width = Number(header[1]);
  const height = Number(header[2]);
  return { width, height, pixels: data.subarray(header[0].length, header[0].length + width * height) };
}

/** The bounding box of dark pixels, as fractions of the page (0,0 top-left), or null for a blank page. */
export function inkBox(
  image: Rendered,
  threshold = 96,
): { left: number; top: number; right: number; bottom: number } | null {
  let left = Infinity;
  let top = Infinity;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.pixels[y * image.width + x]! < threshold) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  return {
    left: left / image.width,
    top: top / image.height,
    right: (right + 1) / image.width,
    bottom: (bottom + 1) / image.height,
  };
}

/** Share of dark pixels on the page. */
export function inkShare(image: Rendered, threshold = 96): number {
  let dark = 0;
  for (const value of image.pixels) if (value < threshold) dark++;
  return dark / image.pixels.length;
}
