import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { simpleParser } from 'mailparser';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { faxedPdf } from '../helpers/faxedMedia.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { inkBox, pdfPages, pdfText, renderPage } from '../helpers/renderPdf.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * A sender's own PDF, over real SMTP into the running daemon: what the fax service fetched is looked at the way
 * a recipient would (poppler renders and reads it). A filled form shows its values once the form is gone; a
 * landscape or odd-sized page arrives upright on the configured paper, whole; a PDF already fit to fax is faxed
 * byte for byte as sent.
 */
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const LETTER = { width: 612, height: 792, rotate: 0 };

let dir: string;
let env: TestDaemon;

beforeAll(async () => {
  dir = makeFixtureDir();
  // No header line: the fetched media is the stored document itself.
  env = await startTestDaemon({ yaml: 'header:\n  enabled: false\ndocuments:\n  paper: letter\n' });
});
afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A form as offices get them: a patient's name typed into a field, a box ticked; pdf-lib makes it. */
async function filledForm(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([612, 792]);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  page.drawText('Referral form', { x: 72, y: 720, size: 24, font });
  const form = doc.getForm();
  const name = form.createTextField('patient.name');
  name.addToPage(page, { x: 72, y: 600, width: 300, height: 30 });
  name.setText('Jane Q. Example');
  const consent = form.createCheckBox('consent');
  consent.addToPage(page, { x: 72, y: 550, width: 20, height: 20 });
  consent.check();
  return Buffer.from(await doc.save());
}

/** One page of `size` with a frame 20 pt inside its edges and a tall bar on its left: cropping would cut the frame. */
async function framedPage(size: [number, number]): Promise<PDFDocument> {
  const doc = await PDFDocument.create();
  const page = doc.addPage(size);
  const [width, height] = size;
  page.drawRectangle({
    x: 20,
    y: 20,
    width: width - 40,
    height: height - 40,
    borderColor: rgb(0, 0, 0),
    borderWidth: 4,
  });
  page.drawText('Site plan', {
    x: 40,
    y: height - 60,
    size: 18,
    font: await doc.embedFont(StandardFonts.Helvetica),
  });
  return doc;
}

async function send(subject: string, filename: string, content: Buffer, to = '+15551234567@fax.localhost') {
  return sendMail(env.smtpPort, {
    from: 'alice@example.com',
    to,
    subject,
    text: 'Please fax this',
    attachments: [{ filename, content, contentType: 'application/pdf' }],
  });
}

describe("a sender's own PDF", () => {
  it('faxes a filled form with its values printed on the page, and the form itself gone', async () => {
    const before = env.simulator.faxes().length;
    const result = await send('Referral', 'referral.pdf', await filledForm());
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax, path, bytes } = await faxedPdf(env.simulator, before, dir, 'referral-faxed.pdf');
    expect(fax.documentPages).toBe(1);
    expect(pdfPages(path)).toEqual([LETTER]);
    // The value is page content now: a fax renderer that ignores forms still prints it.
    expect(pdfText(path)).toContain('Jane Q. Example');
    const faxed = await PDFDocument.load(bytes);
    expect(faxed.getForm().getFields()).toHaveLength(0);
    expect(faxed.getPage(0).node.Annots()).toBeUndefined();
    // Rendered with annotations off, the value and the tick are still there (ink in the field's area).
    const box = inkBox(renderPage(path, 1, 72))!;
    expect(box.bottom).toBeGreaterThan((792 - 550) / 792);
  });

  it.each([
    ['a landscape A4 page', [841.89, 595.28] as [number, number]],
    ['an odd-sized wide page (a 6×4 in receipt)', [432, 288] as [number, number]],
    ['a landscape page larger than the paper (tabloid)', [1224, 792] as [number, number]],
  ])('faxes %s upright on Letter, whole, ink reaching no edge', async (_name, size) => {
    const doc = await framedPage(size);
    const before = env.simulator.faxes().length;
    const result = await send('Plan', 'plan.pdf', Buffer.from(await doc.save()));
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax, path } = await faxedPdf(env.simulator, before, dir, `plan-${size[0]}.pdf`);
    expect(fax.documentPages).toBe(1);
    expect(pdfPages(path)).toEqual([LETTER]);
    const box = inkBox(renderPage(path, 1, 72))!;
    // Nothing cut off: the frame is inside the paper on every side …
    for (const edge of [box.left, box.top, 1 - box.right, 1 - box.bottom])
      expect(edge).toBeGreaterThan(0.005);
    // … and it was turned upright: the wide page's frame now stands taller than it is wide.
    const inkWidth = (box.right - box.left) * 612;
    const inkHeight = (box.bottom - box.top) * 792;
    expect(inkHeight).toBeGreaterThan(inkWidth);
    expect(inkHeight / inkWidth).toBeCloseTo((size[0] - 40) / (size[1] - 40), 1);
  });

  it('faxes a PDF already fit to fax byte for byte as sent', async () => {
    const pdf = await makePdf(2, { label: 'plain' });
    const before = env.simulator.faxes().length;
    const result = await send('Plain', 'plain.pdf', pdf);
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax } = await faxedPdf(env.simulator, before, dir, 'plain-faxed.pdf');
    expect(fax.media?.sha256).toBe(sha256(pdf));
    expect(fax.documentPages).toBe(2);
  });

  it('attaches the document as it was faxed to a failure receipt, the form values in it, ready to resend', async () => {
    const result = await send('Referral', 'referral.pdf', await filledForm(), '+15555550103@fax.localhost');
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const jobId = /Queued (\S+) \+15555550103$/.exec(result.response)![1]!;
    const outboxDir = join(env.dataDir, 'outbox');
    const eml = await waitFor(
      () =>
        existsSync(outboxDir)
          ? readdirSync(outboxDir).find((name) => name.startsWith(`receipt-failed-${jobId}`))
          : undefined,
      30_000,
      'the failure receipt',
    );
    const receipt = await simpleParser(readFileSync(join(outboxDir, eml)));
    const attached = receipt.attachments.filter((a) => a.contentType === 'application/pdf');
    expect(attached).toHaveLength(1);
    expect(attached[0]!.filename).toBe('referral.pdf');
    const copy = join(dir, 'from-receipt.pdf');
    writeFileSync(copy, attached[0]!.content);
    expect(pdfText(copy)).toContain('Jane Q. Example');

    // Sent again as it came back, it is faxed unchanged: what failed is exactly what is tried again.
    const before = env.simulator.faxes().length;
    const again = await send('Referral again', 'referral.pdf', attached[0]!.content);
    expect(again.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax } = await faxedPdf(env.simulator, before, dir, 'resent.pdf');
    expect(fax.media?.sha256).toBe(sha256(attached[0]!.content));
  });
});
