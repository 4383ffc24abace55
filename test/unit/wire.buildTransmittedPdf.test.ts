import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  buildTransmittedPdf,
  type TransmitRequest,
  writeTransmittedPdf,
} from '../../src/documents/wire/buildTransmittedPdf.js';
import { COMMENTS_CUT_NOTE } from '../../src/documents/wire/coverPage.js';
import { makePdf } from '../helpers/pdfFixtures.js';

const HEADER = '{date} {time}  FROM: {from_name}  {from_number}  TO: {to_number}  P.{page}/{pages}';
const header = {
  date: '2025-03-04',
  time: '09:15 UTC',
  from_name: 'Zoë Müller',
  from_number: '+15550001111',
  to_number: '+15557654321',
};
const coverValues = {
  to: 'Dr. Smith',
  to_number: '+15557654321',
  from: 'Zoë Müller',
  from_email: 'zoe@example.com',
  from_number: '+15550001111',
  date: '2025-03-04 09:15 UTC',
  subject: '請求書 March',
  comments: 'Please find the referral attached.',
  notice: 'CONFIDENTIAL: for the addressee only.',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** pdftotext's reading of each page (poppler separates pages with form feeds). */
async function pagesText(pdf: Uint8Array): Promise<string[]> {
  const file = join(dir, `t-${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(file, pdf);
  const result = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  // Spacing is layout, not content: runs of spaces are read as one.
  return result.stdout
    .split('\f')
    .slice(0, -1)
    .map((page) => page.replace(/[ \t]+/g, ' '));
}

function request(document: Uint8Array, cover: TransmitRequest['cover']): TransmitRequest {
  return { document, headerText: HEADER, header, cover };
}

describe('buildTransmittedPdf', () => {
  it('puts the header line on every page, counting the cover, and keeps every original text', async () => {
    const built = await buildTransmittedPdf(
      request(await makePdf(2, { label: 'orig' }), { values: coverValues, logo: null, template: null }),
    );
    expect(built.pages).toBe(3);
    const pages = await pagesText(built.pdf);
    expect(pages).toHaveLength(3);
    pages.forEach((text, index) => {
      expect(text).toContain(`P.${index + 1}/3`);
      expect(text).toContain('FROM: Zoë Müller +15550001111 TO: +15557654321');
    });
    expect(pages[0]).toContain('Dr. Smith');
    expect(pages[0]).toContain('請求書 March');
    expect(pages[0]).toContain('Please find the referral attached.');
    expect(pages[0]).toContain('CONFIDENTIAL: for the addressee only.');
    expect(pages[0]).toMatch(/3 \(including this cover page\)/);
    expect(pages[1]).toContain('orig page 1');
    expect(pages[2]).toContain('orig page 2');
  });

  it('scales the page content into the room below the band: nothing is cropped or covered', async () => {
    const built = await buildTransmittedPdf(request(await makePdf(1), null));
    const doc = await PDFDocument.load(built.pdf);
    expect(doc.getPage(0).getSize()).toEqual({ width: 612, height: 792 });
    // The text drawn at the very top of the original (y=700 of 792) is still found inside the page.
    const [text] = await pagesText(built.pdf);
    expect(text).toContain('doc page 1');
    expect(text).toContain('P.1/1');
  });

  it('keeps a blank page (no content stream at all) and puts the header line on it', async () => {
    const doc = await PDFDocument.create();
    doc.addPage([612, 792]);
    const font = await doc.embedFont(StandardFonts.Helvetica);
    doc.addPage([612, 792]).drawText('after the blank page', { x: 72, y: 700, size: 12, font });
    const built = await buildTransmittedPdf(request(await doc.save(), null));
    expect(built.pages).toBe(2);
    const pages = await pagesText(built.pdf);
    expect(pages[0]).toContain('P.1/2');
    expect(pages[1]).toContain('P.2/2');
    expect(pages[1]).toContain('after the blank page');
  });

  it('cuts long comments to one page and says so', async () => {
    const long = Array.from({ length: 200 }, (_, n) => `Line ${n} of a very long message body.`).join('\n');
    const built = await buildTransmittedPdf(
      request(await makePdf(1), { values: { ...coverValues, comments: long }, logo: null, template: null }),
    );
    const pages = await pagesText(built.pdf);
    expect(pages).toHaveLength(2);
    expect(pages[0]).toContain('Line 0 of a very long');
    expect(pages[0]).toContain(COMMENTS_CUT_NOTE);
    expect(pages[0]).not.toContain('Line 199');
  });

  it('fills and flattens the form fields of a cover template', async () => {
    const template = await PDFDocument.create();
    const page = template.addPage([612, 792]);
    const form = template.getForm();
    const font = await template.embedFont(StandardFonts.Helvetica);
    ['to', 'from', 'subject', 'pages', 'comments'].forEach((name, index) => {
      form
        .createTextField(name)
        .addToPage(page, { x: 72, y: 600 - index * 40, width: 400, height: 24, font });
    });
    // A form field has one font, so a value mixing Japanese and Latin shows the minority script as `?`.
    const built = await buildTransmittedPdf(
      request(await makePdf(2), {
        values: { ...coverValues, subject: '請求書' },
        logo: null,
        template: await template.save(),
      }),
    );
    const doc = await PDFDocument.load(built.pdf);
    expect(doc.getForm().getFields()).toHaveLength(0);
    const pages = await pagesText(built.pdf);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toContain('Dr. Smith');
    expect(pages[0]).toContain('Zoë Müller');
    expect(pages[0]).toContain('請求書');
    expect(pages[0]).toContain('P.1/3');
  });

  it('writes the same fax to a file as it is serialized, a large photo included, and qpdf finds it sound', async () => {
    // A noisy photo does not compress: its ~650 KB stream goes to the file from the loaded bytes, not a copy.
    const photo = await sharp({
      create: {
        width: 480,
        height: 480,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .png()
      .toBuffer();
    const source = await PDFDocument.create();
    const image = await source.embedPng(photo);
    source.addPage([612, 792]).drawImage(image, { x: 50, y: 200, width: 480, height: 480 });
    source.addPage([612, 792]).drawRectangle({ x: 72, y: 72, width: 100, height: 100 });
    const document = Buffer.from(await source.save());
    expect(document.length).toBeGreaterThan(256 * 1024);
    const file = join(dir, 'written.pdf');
    const written = await writeTransmittedPdf(
      request(document, { values: coverValues, logo: null, template: null }),
      file,
    );
    const onDisk = await readFile(file);
    expect(written).toEqual({
      pages: 3,
      size: onDisk.length,
      sha256: createHash('sha256').update(onDisk).digest('hex'),
    });
    expect(spawnSync('qpdf', ['--check', file], { encoding: 'utf8' }).status).toBe(0);
    const pages = await pagesText(onDisk);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toContain('Dr. Smith');
    pages.forEach((text, index) => expect(text).toContain(`P.${index + 1}/3`));
    const images = spawnSync('pdfimages', ['-list', file], { encoding: 'utf8' });
    expect(images.stdout).toMatch(/480\s+480\s+rgb/);
  });
});
