import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { degrees, PDFDocument, PDFName, PDFString, rgb, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_MAX_PAGES } from '../../src/documents/convert/convertOptions.js';
import { convertPdf, preparePdf } from '../../src/documents/convert/convertPdf.js';
import * as refusals from '../../src/documents/convert/pdfRefusals.js';
import { sniffDocumentFile } from '../../src/documents/convert/sniffDocumentKind.js';
import * as inspection from '../../src/documents/inspectPdf.js';
import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { inkBox, pdfPages, pdfText, renderPage } from '../helpers/renderPdf.js';

/*
 * PDFs as senders' tools make them: a printer's PJL header in front, A4 sent to a Letter fax, landscape pages,
 * pages with /Rotate, filled forms and stamps. The recipient must see every page upright on the paper, whole,
 * with the filled-in values.
 */
let dir: string;
beforeAll(() => {
  dir = makeFixtureDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { paper: 'letter' as const, timeoutMs: 60_000 };

/** A page of `width`×`height` with a black square in its top-left corner and a line of text. */
async function markedPdf(size: [number, number], rotate = 0): Promise<PDFDocument> {
  const doc = await PDFDocument.create();
  const page = doc.addPage(size);
  page.drawRectangle({ x: 0, y: size[1] - 100, width: 100, height: 100, color: rgb(0, 0, 0) });
  page.drawText('Quarterly report', {
    x: 150,
    y: size[1] / 2,
    size: 24,
    font: await doc.embedFont(StandardFonts.Helvetica),
  });
  if (rotate) page.setRotation(degrees(rotate));
  return doc;
}

async function save(doc: PDFDocument, name: string, prefix = ''): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.from(prefix, 'latin1'), await doc.save()]));
  return path;
}

describe('convertPdf', () => {
  it('cuts a printer PJL header off and leaves a Letter page as it was', async () => {
    const pjl = '\x1b%-12345X@PJL JOB NAME="scan"\r\n@PJL ENTER LANGUAGE=PDF\r\n';
    const path = await save(await markedPdf([612, 792]), 'pjl.pdf', pjl);
    expect(await sniffDocumentFile(path)).toEqual({ kind: 'pdf', offset: pjl.length });
    const output = `${path}.out.pdf`;
    expect(await preparePdf(path, output, options)).toEqual({ pages: 1, written: true, checked: true });
    // Only the header is gone: the PDF itself is not rewritten.
    expect(readFileSync(output).equals(readFileSync(path).subarray(pjl.length))).toBe(true);
    expect(readFileSync(output).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.01);
    expect(box.top).toBeLessThan(0.01);
  });

  it('leaves a PDF already on the paper untouched, links and all: nothing is written', async () => {
    const doc = await markedPdf([612, 792]);
    // A hyperlink, as Word's PDF export makes them: an annotation that prints nothing.
    const link = doc.context.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [150, 380, 400, 420],
      Border: [0, 0, 0],
      A: { S: 'URI', URI: PDFString.of('https://example.com/') },
    });
    doc.getPage(0).node.set(PDFName.of('Annots'), doc.context.obj([doc.context.register(link)]));
    const path = await save(doc, 'plain-letter.pdf');
    const output = `${path}.out.pdf`;
    expect(await preparePdf(path, output, options)).toEqual({ pages: 1, written: false, checked: true });
    expect(existsSync(output)).toBe(false);
    // As the last step of a converter, the same file is copied to where the converter's output belongs.
    expect(await convertPdf(path, output, options)).toEqual({ pages: 1 });
    expect(readFileSync(output).equals(readFileSync(path))).toBe(true);
  });

  it("refuses a PDF with more pages than a fax carries, in the PDF checks' words", async () => {
    const doc = await PDFDocument.create();
    for (let n = 0; n < 4; n++) doc.addPage([612, 792]);
    const path = await save(doc, 'four.pdf');
    await expect(convertPdf(path, `${path}.out.pdf`, { ...options, maxPages: 3 })).rejects.toMatchObject({
      code: 'too_large',
      message: 'has 4 pages; the most a fax can carry is 3',
    });
  });

  it("words its refusals as the intake's PDF check does", () => {
    expect(refusals.PROBLEM_NEEDS_PASSWORD).toBe(inspection.PROBLEM_NEEDS_PASSWORD);
    expect(refusals.PROBLEM_UNREADABLE).toBe(inspection.PROBLEM_UNREADABLE);
    expect(refusals.PROBLEM_NO_PAGES).toBe(inspection.PROBLEM_NO_PAGES);
    expect(refusals.tooComplex('it has a loop')).toBe(inspection.tooComplex('it has a loop'));
    expect(DEFAULT_MAX_PAGES).toBe(inspection.FAX_MAX_PAGES);
  });

  it('scales an A4 page down onto Letter, whole and centred', async () => {
    const path = await save(await markedPdf([595.28, 841.89]), 'a4.pdf');
    const output = `${path}.out.pdf`;
    await convertPdf(path, output, options);
    expect(pdfPages(output)).toEqual([{ width: 612, height: 792, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1, 72))!;
    // 792/841.89 = 0.94: the page is 560 pt wide, centred, so it starts 26 pt in; its top is the paper's top.
    expect(box.left).toBeGreaterThan(0.03);
    expect(box.left).toBeLessThan(0.05);
    expect(box.top).toBeLessThan(0.01);
  });

  it('turns a landscape page upright, its top along the left side', async () => {
    const path = await save(await markedPdf([792, 612]), 'landscape.pdf');
    const output = `${path}.out.pdf`;
    await convertPdf(path, output, options);
    expect(pdfPages(output)).toEqual([{ width: 612, height: 792, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.01);
    expect(box.bottom).toBeGreaterThan(0.99);
  });

  it('honours /Rotate: a portrait page shown turned is fitted as the viewer shows it', async () => {
    // A Letter page with /Rotate 90 is shown landscape (top on the right); it is turned back upright.
    const path = await save(await markedPdf([612, 792], 90), 'rotated.pdf');
    const output = `${path}.out.pdf`;
    await convertPdf(path, output, options);
    expect(pdfPages(output)).toEqual([{ width: 612, height: 792, rotate: 0 }]);
    const box = inkBox(renderPage(output, 1))!;
    expect(box.left).toBeLessThan(0.01);
    expect(box.top).toBeLessThan(0.01);
  });

  it('flattens a filled form so the values print, and drops the form', async () => {
    const doc = await markedPdf([612, 792]);
    const form = doc.getForm();
    const name = form.createTextField('patient.name');
    name.addToPage(doc.getPage(0), { x: 150, y: 600, width: 250, height: 30 });
    name.setText('Jane Q. Example');
    const consent = form.createCheckBox('consent');
    consent.addToPage(doc.getPage(0), { x: 150, y: 550, width: 20, height: 20 });
    consent.check();
    const path = await save(doc, 'form.pdf');
    const output = `${path}.out.pdf`;
    await convertPdf(path, output, { ...options, paper: 'a4' });
    expect(pdfText(output)).toContain('Jane Q. Example');
    const converted = await PDFDocument.load(readFileSync(output));
    expect(converted.getForm().getFields()).toHaveLength(0);
    expect(converted.getPage(0).node.get(PDFName.of('Annots'))).toBeUndefined();
  });

  it('decrypts a PDF that has only an owner password and fits it', async () => {
    const plain = await save(await markedPdf([595.28, 841.89]), 'owner-plain.pdf');
    const locked = join(dir, 'owner-locked.pdf');
    execFileSync('qpdf', ['--encrypt', '', 'owner-secret', '256', '--', plain, locked]);
    const output = `${locked}.out.pdf`;
    expect(await convertPdf(locked, output, options)).toEqual({ pages: 1 });
    expect(pdfPages(output)).toEqual([{ width: 612, height: 792, rotate: 0 }]);
  });

  it('refuses a PDF that needs a password to open', async () => {
    const plain = await save(await markedPdf([612, 792]), 'user-plain.pdf');
    const locked = join(dir, 'user-locked.pdf');
    execFileSync('qpdf', ['--encrypt', 'user-secret', 'owner-secret', '256', '--', plain, locked]);
    await expect(convertPdf(locked, `${locked}.out.pdf`, options)).rejects.toMatchObject({
      code: 'unreadable',
      message: 'needs a password to open',
    });
  });

  it('calls a truncated PDF unreadable', async () => {
    const whole = readFileSync(await save(await markedPdf([612, 792]), 'whole.pdf'));
    const path = join(dir, 'truncated.pdf');
    writeFileSync(path, whole.subarray(0, Math.floor(whole.length / 3)));
    await expect(convertPdf(path, `${path}.out.pdf`, options)).rejects.toMatchObject({ code: 'unreadable' });
  });
});
