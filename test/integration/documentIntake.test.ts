import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  makeExifRotatedJpeg,
  makeFaxTiff,
  makeFixtureDir,
  makeTwoPageDocx,
  read,
} from '../helpers/documentFixtures.js';
import { faxedPdf } from '../helpers/faxedMedia.js';
import { type GotenbergStandIn, startGotenbergStandIn } from '../helpers/gotenbergStandIn.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { pdfPages, pdfText } from '../helpers/renderPdf.js';
import { freePort, sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { encodeTnef } from '../helpers/tnefEncoder.js';

/*
 * Documents as offices send them, over real SMTP into the running daemon, made by the tools that make them in
 * real life (ImageMagick, LibreOffice, zip). What is checked is what the fax service fetched: one PDF, the pages
 * in message order, every page on Letter paper. Refusals are checked for their code, their advice, and that no
 * fax was sent.
 */
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const LETTER = { width: 612, height: 792 };
const SLOW = 180_000;

let dir: string;
let jpeg: Buffer;
let tiff: Buffer;
let docx: Buffer;

beforeAll(() => {
  dir = makeFixtureDir();
  jpeg = read(makeExifRotatedJpeg(dir));
  tiff = read(makeFaxTiff(dir, 3));
  docx = read(makeTwoPageDocx(dir));
}, SLOW);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function textOfPages(path: string): string[] {
  return pdfText(path)
    .split('\f')
    .slice(0, -1)
    .map((page) => page.trim());
}

describe('documents as offices send them: office files converted locally', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({ yaml: 'header:\n  enabled: false\ndocuments:\n  paper: letter\n' });
  });
  afterAll(async () => {
    await env.stop();
  });

  it(
    'faxes a photo, a 3-page fax TIFF, a DOCX and a PDF as one fax, pages in message order, all Letter',
    async () => {
      const pdf = await makePdf(1, { label: 'last' });
      const before = env.simulator.faxes().length;
      const result = await sendMail(env.smtpPort, {
        from: 'alice@example.com',
        to: '+15551234567@fax.localhost',
        subject: 'Everything',
        text: 'Four documents',
        attachments: [
          { filename: 'IMG_0001.jpg', content: jpeg, contentType: 'image/jpeg' },
          { filename: 'scan0002.tif', content: tiff, contentType: 'image/tiff' },
          { filename: 'Letter.docx', content: docx },
          { filename: 'last.pdf', content: pdf, contentType: 'application/pdf' },
        ],
      });
      expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
      const { fax, path } = await faxedPdf(env.simulator, before, dir, 'four.pdf');
      expect(fax.documentPages).toBe(1 + 3 + 2 + 1);
      const pages = pdfPages(path);
      expect(pages).toHaveLength(7);
      for (const page of pages) expect({ width: page.width, height: page.height }).toEqual(LETTER);
      const text = textOfPages(path);
      // The photo and the scans carry no text; the letter's two pages and the PDF's page follow, in order.
      expect(text.slice(0, 4)).toEqual(['', '', '', '']);
      expect(text[4]).toContain('Line 1 of the letter.');
      expect(text[5]).toContain('Line 70 of the letter.');
      expect(text[6]).toContain('last page 1');
    },
    SLOW,
  );

  it('faxes a PDF with a printer PJL header in front, from %PDF- on', async () => {
    const pdf = await makePdf(2, { label: 'pjl' });
    const pjl = Buffer.from('\u001b%-12345X@PJL JOB NAME="scan"\r\n@PJL ENTER LANGUAGE=PDF\r\n', 'latin1');
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'From the printer',
      attachments: [
        { filename: 'scan.pdf', content: Buffer.concat([pjl, pdf]), contentType: 'application/pdf' },
      ],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax } = await faxedPdf(env.simulator, before, dir, 'pjl.pdf');
    // What the fax service fetched starts at %PDF-: the sender's PDF without the printer's header.
    expect(fax.media?.sha256).toBe(sha256(pdf));
    expect(fax.documentPages).toBe(2);
    const final = await waitFor(
      () =>
        env.simulator
          .faxes()
          .slice(before)
          .find((sent) => sent.status === 'delivered' || sent.status === 'failed'),
      30_000,
      'the fax finished',
    );
    expect(final.status).toBe('delivered');
  });

  it('refuses a stored (not deflated) ZIP whose first KB holds %PDF-: attach the files themselves', async () => {
    const inner = join(dir, 'inside.pdf');
    writeFileSync(inner, await makePdf(1));
    const zipPath = join(dir, 'files.zip');
    execFileSync('zip', ['-0', '-j', '-q', zipPath, inner]);
    const zip = read(zipPath);
    expect(zip.subarray(0, 1024).includes('%PDF-')).toBe(true);
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Zipped',
      attachments: [{ filename: 'files.zip', content: zip, contentType: 'application/octet-stream' }],
    });
    expect(result.code).toBe(550);
    expect(result.response).toMatch(/^550 5\.6\.0 files\.zip is an archive; attach the files themselves/);
    expect(env.simulator.faxes().length).toBe(before);
  });

  it(
    'unwraps a winmail.dat holding a PDF and a DOCX, and faxes both',
    async () => {
      const pdf = await makePdf(1, { label: 'invoice' });
      const winmail = encodeTnef([
        { longName: 'Invoice.pdf', data: pdf },
        { longName: 'Letter.docx', data: docx },
      ]);
      const before = env.simulator.faxes().length;
      const result = await sendMail(env.smtpPort, {
        from: 'alice@example.com',
        to: '+15551234567@fax.localhost',
        subject: 'From Outlook',
        text: 'See attached',
        attachments: [{ filename: 'winmail.dat', content: winmail, contentType: 'application/ms-tnef' }],
      });
      expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
      const { fax, path } = await faxedPdf(env.simulator, before, dir, 'winmail.pdf');
      expect(fax.documentPages).toBe(3);
      const text = textOfPages(path);
      expect(text[0]).toContain('invoice page 1');
      expect(text[1]).toContain('Line 1 of the letter.');
    },
    SLOW,
  );

  it('faxes a text/plain attachment as monospaced pages', async () => {
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Notes',
      text: 'the body is not faxed',
      attachments: [{ filename: 'notes.txt', content: 'Order 4711: 12 boxes\n', contentType: 'text/plain' }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { fax, path } = await faxedPdf(env.simulator, before, dir, 'notes.pdf');
    expect(fax.documentPages).toBe(1);
    expect(pdfText(path)).toContain('Order 4711: 12 boxes');
    expect(pdfText(path)).not.toContain('the body is not faxed');
    expect(execFileSync('pdffonts', [path], { encoding: 'utf8' })).toMatch(/Mono/);
  });

  it('refuses a message with only a body and its logo: no document, with advice', async () => {
    const logo = read(makeExifRotatedJpeg(makeFixtureDir()));
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Just a note',
      html: '<p>Hello</p><img src="cid:logo@example.com">',
      attachments: [
        { filename: 'logo.jpg', content: logo, contentType: 'image/jpeg', cid: 'logo@example.com' },
      ],
    });
    expect(result.code).toBe(550);
    expect(result.response).toMatch(
      /^550 5\.6\.0 No document found in the message \(found: logo\.jpg \(image\/jpeg\)\)/,
    );
    expect(result.response).toContain('attach the document as a PDF, a photo, a scan or an Office file');
    expect(env.simulator.faxes().length).toBe(before);
  });
});

describe('documents as offices send them: office off, and through Gotenberg', () => {
  let off: TestDaemon;
  let viaGotenberg: TestDaemon;
  let gotenbergDown: TestDaemon;
  let gotenberg: GotenbergStandIn;
  beforeAll(async () => {
    gotenberg = await startGotenbergStandIn();
    const header = 'header:\n  enabled: false\n';
    off = await startTestDaemon({ yaml: `${header}documents:\n  office: "off"\n` });
    viaGotenberg = await startTestDaemon({ yaml: `${header}documents:\n  office: ${gotenberg.url}\n` });
    const nobody = `http://127.0.0.1:${await freePort()}`;
    gotenbergDown = await startTestDaemon({ yaml: `${header}documents:\n  office: ${nobody}\n` });
  });
  afterAll(async () => {
    await Promise.all([off.stop(), viaGotenberg.stop(), gotenbergDown.stop()]);
    await gotenberg.close();
  });

  const docxMail = {
    from: 'alice@example.com',
    to: '+15551234567@fax.localhost',
    subject: 'Letter',
    get attachments() {
      return [{ filename: 'Letter.docx', content: docx }];
    },
  };

  it('refuses an Office file when documents.office is off: print it to PDF', async () => {
    const before = off.simulator.faxes().length;
    const result = await sendMail(off.smtpPort, docxMail);
    expect(result.code).toBe(550);
    expect(result.response).toMatch(
      /^550 5\.6\.0 Letter\.docx is an Office file .*print it to PDF and attach that/,
    );
    expect(off.simulator.faxes().length).toBe(before);
  });

  it(
    'converts an Office file through the configured Gotenberg service',
    async () => {
      const before = viaGotenberg.simulator.faxes().length;
      const result = await sendMail(viaGotenberg.smtpPort, docxMail);
      expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
      expect(gotenberg.requests).toEqual([['document.docx']]);
      const { fax } = await faxedPdf(viaGotenberg.simulator, before, dir, 'gotenberg.pdf');
      expect(fax.documentPages).toBe(2);
    },
    SLOW,
  );

  it('answers 451 4.3.0 when the Gotenberg service is down, so the sending server retries', async () => {
    const before = gotenbergDown.simulator.faxes().length;
    const result = await sendMail(gotenbergDown.smtpPort, docxMail);
    expect(result.code).toBe(451);
    expect(result.response).toMatch(/^451 4\.3\.0 Letter\.docx cannot be converted right now/);
    expect(gotenbergDown.simulator.faxes().length).toBe(before);
  });
});
