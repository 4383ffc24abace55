import { readFileSync } from 'node:fs';

import fontkit from '@pdf-lib/fontkit';
import { type PDFDocument, type PDFFont, StandardFonts } from 'pdf-lib';

/**
 * The fonts of the header line and the cover page, found at run time where Debian's packages put them (the
 * Docker image installs them):
 * - `fonts-dejavu-core`: DejaVu Sans, Latin, Greek, Cyrillic and many symbols (about 0.7 MB per face);
 * - `fonts-droid-fallback`: Droid Sans Fallback, Chinese, Japanese and Korean (4 MB), embedded only when a text
 *   holds a character DejaVu lacks.
 * Both are embedded as subsets (only the glyphs used), so a fax grows by a few KB. Without them the texts fall
 * back to Helvetica and characters it cannot encode print as `?`: the fax still goes, legibly in Latin.
 */
export const FONT_LOCATIONS = {
  regular: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'],
  bold: ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'],
  cjk: [
    '/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf',
    '/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf',
  ],
} as const;

type Face = keyof typeof FONT_LOCATIONS;

interface FontFile {
  bytes: Uint8Array;
  covers(codePoint: number): boolean;
}

/** Read and parsed once per process: the files do not change while it runs. */
const cache = new Map<Face, FontFile | null>();

type Fontkit = Parameters<PDFDocument['registerFontkit']>[0];
type ParsedFont = ReturnType<Fontkit['create']>;

/*
 * pdf-lib parses a font file anew for every document it is embedded in (CustomFontEmbedder.for calls
 * fontkit.create), and parsing DejaVu was about half of building a job's transmitted PDF. The same bytes always
 * parse to the same font, and each embedding takes its own subset of it (createSubset), so one parse per file
 * and process serves every document.
 */
const parsedFonts = new WeakMap<Uint8Array, ParsedFont>();
const parseOnceFontkit: Fontkit = {
  create(bytes, postscriptName) {
    if (postscriptName !== undefined) return fontkit.create(bytes, postscriptName);
    let font = parsedFonts.get(bytes);
    if (!font) {
      font = rememberLayouts(fontkit.create(bytes));
      parsedFonts.set(bytes, font);
    }
    return font;
  },
};

/** Header lines of the last few faxes: each is laid out about three times per page (see below). */
const MAX_REMEMBERED_LAYOUTS = 256;

/*
 * fontkit shapes a text (OpenType substitutions and kerning) on every `layout` call, and pdf-lib calls it for the
 * same header line once to measure it (fonts.width), once to encode it (drawText) and once more for each run's
 * advance: that shaping was a fifth of building a transmitted PDF. A layout depends only on the font, the text
 * and the features, and pdf-lib only reads it, so the font remembers its last few.
 */
function rememberLayouts(font: ParsedFont): ParsedFont {
  const layout = font.layout.bind(font);
  const recent = new Map<string, ReturnType<ParsedFont['layout']>>();
  font.layout = (text, features) => {
    const key = `${JSON.stringify(features ?? null)}\u0000${text}`;
    let run = recent.get(key);
    if (!run) {
      run = layout(text, features);
      if (recent.size >= MAX_REMEMBERED_LAYOUTS) recent.delete(recent.keys().next().value!);
      recent.set(key, run);
    }
    return run;
  };
  return font;
}

function loadFace(face: Face): FontFile | null {
  if (cache.has(face)) return cache.get(face)!;
  let found: FontFile | null = null;
  for (const file of FONT_LOCATIONS[face]) {
    try {
      const bytes = readFileSync(file);
      const parsed = parseOnceFontkit.create(bytes);
      found = { bytes, covers: (codePoint) => parsed.hasGlyphForCodePoint(codePoint) };
      break;
    } catch {
      // not installed here: try the next location
    }
  }
  cache.set(face, found);
  return found;
}

/** Which of the font files were found, for a start-up log line. */
export function fontsAvailable(): Record<Face, boolean> {
  return { regular: !!loadFace('regular'), bold: !!loadFace('bold'), cjk: !!loadFace('cjk') };
}

export interface TextRun {
  text: string;
  font: PDFFont;
}

/** Draws text of any script with the fonts embedded in one document, embedding each face at first use. */
export interface FontSet {
  runs(text: string, weight?: 'regular' | 'bold'): TextRun[];
  width(text: string, size: number, weight?: 'regular' | 'bold'): number;
  /**
   * The text in one font, for places that hold only one (a form field): the face that draws most of it, with
   * the characters it lacks shown as `?`.
   */
  single(text: string): TextRun;
}

/**
 * Embeds what `texts` need: DejaVu (or Helvetica when it is missing) always, the CJK face only when a text holds a
 * character DejaVu lacks, since parsing its 4 MB costs tens of milliseconds. Every text later passed to `runs` must
 * be among `texts`.
 */
export async function makeFontSet(
  doc: PDFDocument,
  texts: readonly string[],
  /** The weights `runs` and `width` will be asked for; the header line needs no bold face embedded. */
  weights: ReadonlyArray<'regular' | 'bold'> = ['regular', 'bold'],
): Promise<FontSet> {
  doc.registerFontkit(parseOnceFontkit);
  const faces = new Set<EmbeddedFace>();
  faces.add(faceFor(0x41, 'regular'));
  for (const weight of weights) {
    for (const text of texts) for (const char of text) faces.add(faceFor(char.codePointAt(0)!, weight));
  }
  const embedded = new Map<EmbeddedFace, PDFFont>();
  for (const face of faces) {
    if (face === 'helvetica') embedded.set(face, await doc.embedFont(StandardFonts.Helvetica));
    else if (face === 'helvetica-bold') embedded.set(face, await doc.embedFont(StandardFonts.HelveticaBold));
    else embedded.set(face, await doc.embedFont(loadFace(face)!.bytes, { subset: true }));
  }

  const runs = (text: string, weight: 'regular' | 'bold' = 'regular'): TextRun[] => {
    const out: Array<{ text: string; face: EmbeddedFace }> = [];
    for (const char of text) {
      const face = faceFor(char.codePointAt(0)!, weight);
      const shown = printable(char, face);
      if (shown === '') continue;
      const last = out[out.length - 1];
      if (last && last.face === face) last.text += shown;
      else out.push({ text: shown, face });
    }
    return out.map((run) => {
      const font = embedded.get(run.face);
      if (!font) throw new Error('makeFontSet: a text was drawn that was not announced');
      return { text: run.text, font };
    });
  };

  const single = (text: string): TextRun => {
    const counts = new Map<EmbeddedFace, number>();
    for (const char of text) {
      const face = faceFor(char.codePointAt(0)!, 'regular');
      counts.set(face, (counts.get(face) ?? 0) + 1);
    }
    const face = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? faceFor(0x41, 'regular');
    const shown = [...text].map((char) => (char === '\n' ? char : printable(char, face))).join('');
    return { text: shown, font: embedded.get(face)! };
  };

  return {
    runs,
    single,
    width: (text, size, weight) =>
      runs(text, weight).reduce((sum, run) => sum + run.font.widthOfTextAtSize(run.text, size), 0),
  };
}

type EmbeddedFace = Face | 'helvetica' | 'helvetica-bold';

function faceFor(codePoint: number, weight: 'regular' | 'bold'): EmbeddedFace {
  const own: Face | null = loadFace(weight) ? weight : loadFace('regular') ? 'regular' : null;
  if (own && loadFace(own)!.covers(codePoint)) return own;
  if (codePoint > 0x7f && loadFace('cjk')?.covers(codePoint)) return 'cjk';
  if (own) return own;
  return weight === 'bold' ? 'helvetica-bold' : 'helvetica';
}

/** A character no available font can show becomes `?` rather than an empty box or an encoding error. */
function printable(char: string, face: EmbeddedFace): string {
  if (char === '\t') return ' ';
  if (/\p{Cc}/u.test(char)) return '';
  if (face === 'helvetica' || face === 'helvetica-bold') {
    return /[\u0020-\u007e\u00a0-\u00ff]/.test(char) ? char : '?';
  }
  return loadFace(face)!.covers(char.codePointAt(0)!) ? char : '?';
}
