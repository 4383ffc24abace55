import { PDFDocument, type PDFImage, type PDFPage, PDFTextField, rgb } from 'pdf-lib';

import type { FontSet } from './fonts.js';
import { HEADER_BAND } from './headerLine.js';
import { wrapText } from './wrapText.js';

/** What a cover page shows; also the AcroForm field names a `cover.template` may hold. */
export interface CoverValues {
  to: string;
  to_number: string;
  from: string;
  from_email: string;
  from_number: string;
  date: string;
  subject: string;
  pages: string;
  comments: string;
  notice: string;
}

export const COVER_FIELDS: ReadonlyArray<keyof CoverValues> = [
  'to',
  'to_number',
  'from',
  'from_email',
  'from_number',
  'date',
  'subject',
  'pages',
  'comments',
  'notice',
];

/** Said where the comments are cut, so the recipient knows there was more. */
export const COMMENTS_CUT_NOTE = '[The message continues; it was cut to fit this page.]';

const MARGIN = 54;
const BODY = 11;
const LINE = 14;
const LOGO_MAX = { width: 200, height: 60 };

/** Texts the built-in cover draws, so the font set can embed what they need. */
export function coverTexts(values: CoverValues): string[] {
  return [
    ...Object.values(values),
    'FAX',
    'To',
    'From',
    'Date',
    'Subject',
    'Pages',
    'Comments',
    COMMENTS_CUT_NOTE,
  ];
}

/**
 * The built-in cover page, drawn on a new page of `out` of the given size. The top HEADER_BAND is left empty for
 * the header line; the comments fill what room is left and are cut, saying so, so the cover stays one page.
 */
export async function drawCoverPage(
  out: PDFDocument,
  size: [number, number],
  values: CoverValues,
  fonts: FontSet,
  logo: Uint8Array | null,
): Promise<PDFPage> {
  const page = out.addPage(size);
  const [width, height] = size;
  const text = (
    line: string,
    x: number,
    y: number,
    fontSize: number,
    weight: 'regular' | 'bold' = 'regular',
  ) => {
    for (const run of fonts.runs(line, weight)) {
      page.drawText(run.text, { x, y, size: fontSize, font: run.font, color: rgb(0, 0, 0) });
      x += run.font.widthOfTextAtSize(run.text, fontSize);
    }
  };
  let y = height - HEADER_BAND - 36;

  const image = logo ? await embedLogo(out, logo) : null;
  if (image) {
    const scale = Math.min(1, LOGO_MAX.width / image.width, LOGO_MAX.height / image.height);
    const drawn = { width: image.width * scale, height: image.height * scale };
    page.drawImage(image, { x: MARGIN, y: y - drawn.height + 12, ...drawn });
    y -= drawn.height + 8;
  }
  text('FAX', MARGIN, y - 16, 28, 'bold');
  y -= 52;

  const room = width - 2 * MARGIN - 90;
  const rows: Array<[string, string]> = [
    ['To', [values.to, values.to_number].filter(Boolean).join('  ')],
    ['From', [values.from, values.from_email, values.from_number].filter(Boolean).join('  ')],
    ['Date', values.date],
    ['Subject', values.subject],
    ['Pages', `${values.pages} (including this cover page)`],
  ];
  for (const [label, value] of rows) {
    text(label, MARGIN, y, BODY + 1, 'bold');
    const lines = wrapText(value, room, (candidate) => fonts.width(candidate, BODY + 1)).slice(0, 3);
    for (const line of lines.length > 0 ? lines : ['']) {
      text(line, MARGIN + 90, y, BODY + 1);
      y -= LINE + 4;
    }
    y -= 2;
  }
  page.drawLine({
    start: { x: MARGIN, y: y + 6 },
    end: { x: width - MARGIN, y: y + 6 },
    thickness: 1,
    color: rgb(0, 0, 0),
  });
  y -= 18;

  const noticeLines = values.notice
    ? wrapText(values.notice, width - 2 * MARGIN, (candidate) => fonts.width(candidate, BODY - 1))
    : [];
  const bottom = MARGIN + noticeLines.length * (LINE - 1) + (noticeLines.length > 0 ? 12 : 0);
  if (values.comments) {
    text('Comments', MARGIN, y, BODY + 1, 'bold');
    y -= LINE + 6;
    const lines = wrapText(values.comments, width - 2 * MARGIN, (candidate) => fonts.width(candidate, BODY));
    const fits = Math.max(1, Math.floor((y - bottom) / LINE));
    const shown = lines.length > fits ? [...lines.slice(0, fits - 1), COMMENTS_CUT_NOTE] : lines;
    for (const line of shown) {
      text(line, MARGIN, y, BODY);
      y -= LINE;
    }
  }
  let noticeY = MARGIN + (noticeLines.length - 1) * (LINE - 1);
  for (const line of noticeLines) {
    text(line, MARGIN, noticeY, BODY - 1, 'bold');
    noticeY -= LINE - 1;
  }
  return page;
}

async function embedLogo(out: PDFDocument, bytes: Uint8Array): Promise<PDFImage | null> {
  // The config check accepts only PNG or JPEG; anything else is left out rather than failing the fax.
  if (bytes[0] === 0x89 && bytes[1] === 0x50) return out.embedPng(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return out.embedJpg(bytes);
  return null;
}

/**
 * A `cover.template`: the form fields named as in COVER_FIELDS are filled, their appearance drawn with a font
 * that covers the values (so names in any script show), and the form flattened into plain page content. Fields
 * of other names are flattened as they are; missing fields are simply not filled.
 */
export async function fillCoverTemplate(
  template: Uint8Array,
  values: CoverValues,
  pickFont: (doc: PDFDocument, texts: string[]) => Promise<FontSet>,
): Promise<PDFDocument> {
  const doc = await PDFDocument.load(template, { updateMetadata: false });
  const form = doc.getForm();
  const fonts = await pickFont(
    doc,
    COVER_FIELDS.map((name) => values[name]),
  );
  for (const name of COVER_FIELDS) {
    const field = form.getFieldMaybe(name);
    if (!(field instanceof PDFTextField)) continue;
    const { text, font } = fonts.single(values[name]);
    field.setText(text);
    field.updateAppearances(font);
  }
  // Appearances are drawn above with fonts that cover the values; pdf-lib's default (Helvetica) would throw.
  form.flatten({ updateFieldAppearances: false });
  return doc;
}
