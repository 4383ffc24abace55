import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { extractDocuments, type ExtractedMessage } from '../../src/documents/extractDocuments.js';
import { liftBase64Bodies } from '../../src/documents/liftBase64Bodies.js';
import { buildCorpus } from '../helpers/badInputCorpus.js';
import { composeEml, forwardedAttachment, pdfAttachment, TINY_PNG } from '../helpers/emlFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';

/**
 * A message read with its base64 bodies lifted (decoded ahead of mailparser, liftBase64Bodies.ts) must come out
 * exactly as when mailparser reads every line: the same documents with the same bytes, names, types and part
 * numbers, the same other parts, text and headers. Each case also says how many bodies it expects lifted, so that
 * a scan that quietly lifts nothing fails too.
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
  const lifted = lift ? liftBase64Bodies(raw, minBodyBytes) : null;
  // Counted before reading: each body is handed back once, and leaves the set then.
  const count = lifted?.bodies.count ?? 0;
  try {
    const message = await extractDocuments(
      Readable.from([lifted?.message ?? raw]),
      dir,
      {},
      undefined,
      lifted?.bodies,
    );
    return { outcome: { ok: true, value: comparable(message) }, lifted: count };
  } catch (error) {
    return { outcome: { ok: false, error: String(error) }, lifted: count };
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
