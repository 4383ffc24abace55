import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Attachments made the way real tools make them: ImageMagick for photos and scans, libheif's heif-enc for an
 * iPhone-style HEIC, LibreOffice for Word and Excel files. Every picture carries one black square, "the mark", in
 * a known corner of what a person should see, so a test can render the fax page and check where the mark landed.
 *
 * Needs Debian's imagemagick, libheif-examples and libreoffice-*-nogui. `/usr/bin/convert` is named explicitly:
 * /usr/local/bin/convert on these machines is an unrelated stand-in.
 */
export const MAGICK = '/usr/bin/convert';

export function makeFixtureDir(): string {
  return mkdtempSync(join(tmpdir(), 'faxbridge-docs-'));
}

function magick(args: string[]): void {
  execFileSync(MAGICK, args, { stdio: 'pipe' });
}

/** A white picture with the mark (a black square a fifth of the width) at its top-left, as a person sees it. */
export function makeMarkedImage(
  dir: string,
  name: string,
  width: number,
  height: number,
  extra: string[] = [],
): string {
  const path = join(dir, name);
  const side = Math.round(width / 5);
  magick([
    '-size',
    `${width}x${height}`,
    'xc:white',
    '-fill',
    'black',
    '-draw',
    `rectangle 0,0 ${side},${side}`,
    ...extra,
    path,
  ]);
  return path;
}

/**
 * A JPEG as a phone stores a portrait photo: the sensor's landscape pixels plus EXIF orientation 6 ("turn 90°
 * clockwise to view"). Stored pixels have the mark at their bottom-left, so the upright photo has it top-left.
 * ImageMagick writes no EXIF block for a picture it drew itself (`-orient` only changes its own header field),
 * so the APP1 segment a camera writes is added here: a TIFF header and one IFD with Orientation (0x0112) = 6.
 */
export function makeExifRotatedJpeg(dir: string): string {
  const path = join(dir, 'IMG_0001.jpg');
  magick(['-size', '400x300', 'xc:white', '-fill', 'black', '-draw', 'rectangle 0,240 60,299', path]);
  const tiff = Buffer.from(
    '4949 2a00 08000000 0100 1201 0300 01000000 0600 0000 00000000'.replace(/ /g, ''),
    'hex',
  );
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([
    Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]),
    body,
  ]);
  const jpeg = readFileSync(path);
  writeFileSync(path, Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]));
  return path;
}

/** A PNG whose background is fully transparent: printed without care it turns black. */
export function makeTransparentPng(dir: string): string {
  const path = join(dir, 'logo.png');
  magick(['-size', '300x400', 'xc:none', '-fill', 'black', '-draw', 'rectangle 0,0 60,60', path]);
  return path;
}

/** An iPhone-style HEIC, encoded by libheif's heif-enc from a marked JPEG. */
export function makeHeic(dir: string): string {
  const source = makeMarkedImage(dir, 'heic-source.jpg', 300, 400);
  const path = join(dir, 'IMG_2041.HEIC');
  execFileSync('heif-enc', ['-q', '90', '-o', path, source], { stdio: 'pipe' });
  return path;
}

/**
 * A multi-page fax TIFF, Group 4 compressed, 1 bit per pixel. Page n has the mark at the top-left and n-1 thin
 * bars, so pages can be told apart; `density` 204x98 is a normal-resolution fax (pixels twice as tall as wide).
 */
export function makeFaxTiff(dir: string, pages: number, density = '204x196'): string {
  const path = join(dir, `scan-${pages}p-${density}.tif`);
  // A fax page is 1728 pixels across; down, 1100 lines in normal resolution or 2200 in fine, for ~11 in.
  const height = density.endsWith('x98') ? 1100 : 2200;
  const frames: string[] = [];
  for (let n = 1; n <= pages; n++) {
    const bars = Array.from({ length: n - 1 }, (_, i) => [
      '-draw',
      `rectangle 600,${400 + i * 60} 1600,${420 + i * 60}`,
    ]).flat();
    frames.push(
      '(',
      '-size',
      `1728x${height}`,
      'xc:white',
      '-fill',
      'black',
      '-draw',
      'rectangle 0,0 300,150',
      ...bars,
      ')',
    );
  }
  magick([
    ...frames,
    '-units',
    'PixelsPerInch',
    '-density',
    density,
    '-monochrome',
    '-compress',
    'Group4',
    path,
  ]);
  return path;
}

/** Runs LibreOffice once to turn `source` into `format` (docx, xlsx, …) in `dir`, as a user's office suite would. */
export function libreOfficeConvert(dir: string, source: string, format: string, filter?: string): string {
  const profile = join(dir, `lo-profile-${format}`);
  execFileSync(
    'soffice',
    [
      '--headless',
      '--norestore',
      `-env:UserInstallation=file://${profile}`,
      '--convert-to',
      filter ? `${format}:${filter}` : format,
      '--outdir',
      dir,
      source,
    ],
    { stdio: 'pipe', timeout: 120_000, env: { ...process.env, HOME: dir } },
  );
  const produced = source.replace(/\.[^.]+$/, `.${format}`);
  if (!existsSync(produced)) throw new Error(`LibreOffice made no ${format} from ${source}`);
  return produced;
}

/** A Word file of two pages: a text file with enough lines for two, turned into DOCX by LibreOffice. */
export function makeTwoPageDocx(dir: string, name = 'Letter'): string {
  const text = Array.from({ length: 70 }, (_, i) => `Line ${i + 1} of the letter.`).join('\n');
  const source = join(dir, `${name}.txt`);
  writeFileSync(source, text);
  return libreOfficeConvert(dir, source, 'docx', 'MS Word 2007 XML');
}

/** A small spreadsheet from CSV, as Excel would save it. */
export function makeXlsx(dir: string): string {
  const source = join(dir, 'Invoice.csv');
  writeFileSync(source, 'Item,Amount\nWidgets,10\nGadgets,20\n');
  return libreOfficeConvert(dir, source, 'xlsx', 'Calc MS Excel 2007 XML');
}

/** Renames a fixture so a test can pretend a sender mislabelled it. */
export function renamed(path: string, newName: string): string {
  const target = join(path, '..', newName);
  renameSync(path, target);
  return target;
}

export function read(path: string): Buffer {
  return readFileSync(path);
}
