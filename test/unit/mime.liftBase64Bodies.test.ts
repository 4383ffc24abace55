import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { extractDocuments, type ExtractedMessage } from '../../src/documents/extractDocuments.js';
import { liftBase64Bodies } from '../../src/documents/liftBase64Bodies.js';
import { readWholeMessage } from '../../src/documents/readWholeMessage.js';
import { buildCorpus } from '../helpers/badInputCorpus.js';
import { composeEml, forwardedAttachment, pdfAttachment, TINY_PNG } from '../helpers/emlFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/**
 * A message read whole with its base64 bodies lifted (decoded ahead of mailparser, readWholeMessage.ts) must come
 * out exactly as when mailparser reads every line: the same documents with the same bytes, names, types and part
 * numbers, the same other parts, text and headers. Each ordinary case also says how many bodies it expects lifted
 * (and kept), so that a scan that quietly lifts nothing fails too; the odd ones only have to read the same, by
 * whichever way.
 */
let workDir: string;
let runs = 0;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'faxbridge-lift-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

async function read(
  raw: Buffer,
  lift: boolean,
  minBodyBytes = 1,
): Promise<{ outcome: Outcome; lifted: number }> {
  const dir = join(workDir, `run-${(runs += 1)}`);
  try {
    if (!lift) {
      const message = await extractDocuments(Readable.from([raw]), dir);
      return { outcome: { ok: true, value: comparable(message) }, lifted: 0 };
    }
    const reading = await readWholeMessage(raw, dir, {}, undefined, minBodyBytes);
    return { outcome: { ok: true, value: comparable(reading.message) }, lifted: reading.liftedBodies };
  } catch (error) {
    return { outcome: { ok: false, error: String(error) }, lifted: 0 };
  }
}

/** Paths differ by work folder only; the files' bytes are compared through their SHA-256. */
function comparable(message: ExtractedMessage): unknown {
  return {
    ...message,
    documents: message.documents.map((found) => ({ ...found, path: basename(found.path) })),
  };
}

async function expectSameReading(raw: Buffer, expectedLifts: number, minBodyBytes = 1): Promise<void> {
  const plain = await read(raw, false);
  const lifted = await read(raw, true, minBodyBytes);
  expect(lifted.lifted).toBe(expectedLifts);
  expect(lifted.outcome).toEqual(plain.outcome);
}

const crlf = (text: string): Buffer => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');

describe('liftBase64Bodies: read as mailparser reads it', () => {
  it('a PDF attachment beside a text body, at the default threshold', async () => {
    const pdf = await makePdf(40, { label: 'large' });
    const raw = await composeEml({ attachments: [pdfAttachment(pdf, 'Rechnung März.pdf')] });
    expect(pdf.length).toBeGreaterThan(8 * 1024);
    await expectSameReading(raw, 1, 8 * 1024);
    // Below the threshold nothing is lifted, and the reading is the same.
    await expectSameReading(raw, 0, pdf.length * 2);
  });

  it('an HTML body with a cid logo, a base64 text body, two PDFs (one twice)', async () => {
    const one = await makePdf(1, { label: 'one' });
    const two = await makePdf(2, { label: 'two' });
    const raw = await composeEml({
      text: 'Grüße aus Köln. '.repeat(600),
      html: '<p>Hello <img src="cid:logo@x"></p>',
      textEncoding: 'base64',
      attachments: [
        { filename: 'logo.png', content: TINY_PNG, cid: 'logo@x' },
        pdfAttachment(one, 'one.pdf'),
        pdfAttachment(two, 'two.pdf'),
        pdfAttachment(one, 'again.pdf'),
        { filename: 'scan.bin', content: two, contentType: 'application/octet-stream' },
      ],
    });
    // The text, the logo and the four PDFs: every base64 body (nodemailer writes this HTML as 7bit).
    await expectSameReading(raw, 6);
  });

  it('a forwarded message: its own parts are left to mailparser, the outer ones lifted', async () => {
    const inner = await composeEml({ attachments: [pdfAttachment(await makePdf(1, { label: 'inner' }))] });
    const raw = await composeEml({
      attachments: [
        forwardedAttachment(inner),
        pdfAttachment(await makePdf(1, { label: 'outer' }), 'outer.pdf'),
      ],
    });
    await expectSameReading(raw, 1);
  });

  it('a message that is one base64 PDF, with no multipart around it', async () => {
    const pdf = await makePdf(1, { label: 'single' });
    const raw = crlf(
      [
        'From: alice@example.com',
        'To: +15551234567@fax.localhost',
        'Subject: single part',
        'MIME-Version: 1.0',
        'Content-Type: application/pdf; name="single.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        pdf.toString('base64').replace(/.{76}/g, '$&\n'),
        '',
      ].join('\n'),
    );
    await expectSameReading(raw, 1);
  });

  it('odd delimiters: blanks after them, an inner boundary that starts like the outer one, no closing line', async () => {
    const pdf = (await makePdf(1, { label: 'odd' })).toString('base64').replace(/.{76}/g, '$&\n');
    const raw = crlf(
      [
        'From: alice@example.com',
        'Subject: odd',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        'preamble',
        '--b  \t',
        'Content-Type: multipart/alternative;',
        ' boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'hello',
        '--b1--',
        'epilogue of the inner part',
        '--b',
        '',
        'a part with no headers at all',
        '--b',
        'Content-Type: application/pdf',
        'Content-Transfer-Encoding: BASE64',
        '',
        pdf,
        '--b',
        'content-type: application/pdf',
        'content-transfer-encoding: base64',
        '',
        pdf,
      ].join('\n'),
    );
    await expectSameReading(raw, 2);
  });

  it('bodies it must leave alone: padded lines, a stray delimiter-like line, bare LF, two Content-Types', async () => {
    const bytes = await makePdf(1, { label: 'left' });
    // Every line padded on its own (50 bytes a line), as some encoders write it: `=` before the body's end.
    const lines: string[] = [];
    for (let at = 0; at < bytes.length; at += 50) lines.push(bytes.subarray(at, at + 50).toString('base64'));
    const padded = lines.join('\n');
    const plain = bytes.toString('base64').replace(/.{76}/g, '$&\n');
    const part = (body: string, extra: string[] = []): string[] => [
      '--b',
      'Content-Type: application/pdf',
      ...extra,
      'Content-Transfer-Encoding: base64',
      '',
      body,
    ];
    const raw = crlf(
      [
        'From: alice@example.com',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        ...part(padded),
        ...part(`${plain}\n--notours\n${plain}`),
        ...part(plain, ['Content-Type: image/png']),
        ...part(plain, ['X-Note: (a comment)']),
        '--b--',
        '',
      ].join('\n'),
    );
    // The fourth part's comment is in a header the scan does not read: only that body is lifted.
    await expectSameReading(raw, 1);
    const bareLf = Buffer.from(raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    await expectSameReading(bareLf, 0);
  });

  it('messages whose structure the scan reads otherwise than mailparser read the same (the plain reading is kept)', async () => {
    const pdf = (await makePdf(3, { label: 'odd' })).toString('base64').replace(/.{76}/g, '$&\n');
    const head = ['From: alice@example.com', 'Subject: odd', 'MIME-Version: 1.0'];
    const pdfPart = (boundary: string): string[] => [
      `--${boundary}`,
      'Content-Type: application/pdf; name=p.pdf',
      'Content-Transfer-Encoding: base64',
      '',
      pdf,
    ];
    const xbin = ['Content-Type: application/octet-stream; name=x.bin', '', 'hello'];
    // A multipart `o` holding a multipart `m`: a text part (`inner`, then the PDF) inside.
    const nested = (inner: string[]): Buffer =>
      crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary=o',
          '',
          '--o',
          'Content-Type: multipart/mixed; boundary=m',
          '',
          '--m',
          'Content-Type: text/plain',
          '',
          ...inner,
          ...pdfPart('m'),
          '--m--',
          '--o--',
          '',
        ].join('\n'),
      );
    const cases: Record<string, Buffer> = {
      // libmime keeps the space of an unquoted boundary; a scan that stops at it finds `--a` lines.
      'an unquoted boundary with a space': crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary=a b',
          '',
          '--a b',
          ...xbin,
          ...pdfPart('a'),
          '--a--',
          '--a b--',
          '',
        ].join('\n'),
      ),
      'boundary=a"b"': crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary=a"b"',
          '',
          '--ab',
          'Content-Type: text/plain',
          '',
          'hello',
          ...pdfPart('a'),
          '--a--',
          '--ab--',
          '',
        ].join('\n'),
      ),
      'a quoted boundary folded inside its quotes': crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary="a\n   b"',
          '',
          '--a b',
          ...xbin,
          ...pdfPart('a    b'),
          '--a    b--',
          '--a b--',
          '',
        ].join('\n'),
      ),
      'a forward that holds the PDF under the other reading of the boundary': crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary=a b',
          '',
          '--a b',
          'Content-Type: message/rfc822',
          'Content-Disposition: attachment',
          '',
          'Subject: fwd',
          'Content-Type: multipart/mixed; boundary=a',
          '',
          ...pdfPart('a'),
          '--a--',
          '--a b--',
          '',
        ].join('\n'),
      ),
      'an outer delimiter ended by a bare LF inside an inner multipart': Buffer.from(
        nested(['hi@@LF@@--o@@LF@@Content-Type: application/octet-stream; name=x.bin', ''])
          .toString('latin1')
          .replace(/@@LF@@/g, '\n'),
        'latin1',
      ),
      'a delimiter with 999 blanks in a header block': crlf(
        [
          ...head,
          'Content-Type: multipart/mixed; boundary="a:b"',
          '',
          '--a:b',
          'Content-Transfer-Encoding: base64',
          `--a:b${' '.repeat(999)}`,
          'Content-Type: application/pdf; name=p.pdf',
          '',
          pdf,
          '--a:b--',
          '',
        ].join('\n'),
      ),
      'an outer delimiter with 1000 blanks inside an inner multipart': nested([
        'hi',
        `--o${' '.repeat(1000)}`,
        ...xbin.slice(0, 2),
      ]),
    };
    for (const [name, raw] of Object.entries(cases)) {
      const plain = await read(raw, false);
      const whole = await read(raw, true);
      expect({ name, outcome: whole.outcome }).toEqual({ name, outcome: plain.outcome });
    }
  });

  it('messages built to make a scan go over the same bytes again and again read as mailparser reads them', async () => {
    // 1 MB each; a scan whose searches ran to the end of the message took minutes over these.
    const head = 'From: alice@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n';
    const fill = (unit: string): Buffer =>
      Buffer.from(head + unit.repeat(Math.floor((1024 * 1024 - head.length) / unit.length)), 'latin1');
    for (const raw of [
      fill('--b\r\nX: y\r\n'),
      fill('--b\r\nContent-Type: multipart/mixed; boundary=zzzz\r\n\r\nx\r\n'),
    ]) {
      expect((await read(raw, true)).outcome).toEqual((await read(raw, false)).outcome);
    }
  }, 30_000);

  it('the bad-input corpus reads the same', async () => {
    const corpus = await buildCorpus();
    let lifted = 0;
    for (const entry of corpus) {
      const plain = await read(entry.raw, false);
      const quick = await read(entry.raw, true);
      lifted += quick.lifted;
      expect({ name: entry.name, outcome: quick.outcome }).toEqual({
        name: entry.name,
        outcome: plain.outcome,
      });
    }
    expect(lifted).toBeGreaterThan(0);
  }, 60_000);

  it('a marker a sender wrote is not one of ours', async () => {
    const pdf = await makePdf(1, { label: 'marker' });
    const raw = await composeEml({ attachments: [pdfAttachment(pdf)] });
    const lifted = liftBase64Bodies(raw, 1)!;
    const forged = Buffer.from(`\u0000faxbridge-lifted-body:${'0'.repeat(24)}:0\u0000`, 'latin1');
    expect(lifted.bodies.take(forged)).toBeUndefined();
  });
});
