import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { extractDocuments } from '../../src/documents/extractDocuments.js';
import { FaxError } from '../../src/errors.js';
import {
  composeEml,
  composeEmlStream,
  forwardedAttachment,
  pdfAttachment,
  TINY_PNG,
} from '../helpers/emlFixtures.js';
import { makePdf, readPageLabels } from '../helpers/pdfFixtures.js';

let workDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'faxbridge-mime-'));
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('extractDocuments: finding the PDFs', () => {
  it('takes a PDF sent as application/octet-stream under a non-PDF name, by its bytes', async () => {
    const pdf = await makePdf(2, { label: 'scan' });
    const input = composeEmlStream({
      attachments: [{ filename: 'scan.bin', content: pdf, contentType: 'application/octet-stream' }],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents).toHaveLength(1);
    expect(result.documents[0]).toMatchObject({
      filename: 'scan.bin',
      size: pdf.length,
      sha256: sha256(pdf),
    });
    expect(await readFile(result.documents[0]!.path)).toEqual(pdf);
    expect(result.others).toEqual([]);
  });

  it('takes an inline PDF without a file name and names it document-1.pdf', async () => {
    const pdf = await makePdf(1);
    const input = composeEmlStream({
      attachments: [
        { content: pdf, contentType: 'application/pdf', contentDisposition: 'inline', filename: false },
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['document-1.pdf']);
    expect(await readFile(result.documents[0]!.path)).toEqual(pdf);
  });

  it('takes a message that is nothing but a PDF (no multipart at all)', async () => {
    const pdf = await makePdf(1);
    const head =
      'From: a@example.com\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n';
    const body = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
    const result = await extractDocuments(Readable.from([Buffer.from(head + body + '\r\n')]), workDir);
    expect(result.documents).toMatchObject([
      { filename: 'document-1.pdf', partId: '1', sha256: sha256(pdf) },
    ]);
  });

  it('takes a PDF whose %PDF- header comes after junk within the first 1024 bytes, not later', async () => {
    const pdf = await makePdf(1);
    const late = Buffer.concat([Buffer.alloc(1000, 0x20), pdf]);
    const tooLate = Buffer.concat([Buffer.alloc(1030, 0x20), pdf]);
    const input = composeEmlStream({
      attachments: [
        { filename: 'late.pdf', content: late, contentType: 'application/pdf' },
        { filename: 'too-late.pdf', content: tooLate, contentType: 'application/pdf' },
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['late.pdf']);
    expect(result.others).toEqual([
      { filename: 'too-late.pdf', contentType: 'application/pdf', size: tooLate.length },
    ]);
  });

  it('opens a forwarded message attached as message/rfc822 and keeps every PDF in order of appearance', async () => {
    const inner = await composeEml({
      subject: 'the original',
      attachments: [pdfAttachment(await makePdf(1, { label: 'inner' }), 'inner.pdf')],
    });
    const input = composeEmlStream({
      attachments: [
        pdfAttachment(await makePdf(1, { label: 'first' }), 'first.pdf'),
        forwardedAttachment(inner),
        pdfAttachment(await makePdf(1, { label: 'last' }), 'last.pdf'),
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['first.pdf', 'inner.pdf', 'last.pdf']);
    expect(result.documents[1]!.partId).toBe('3.2');
    expect(result.subject).toBe('Fax test');
    const labels = await Promise.all(
      result.documents.map(async (found) => readPageLabels(await readFile(found.path))),
    );
    expect(labels.flat()).toEqual(['first:1', 'inner:1', 'last:1']);
  });

  it('finds PDFs in an inline message/rfc822 part, which mailparser flattens itself', async () => {
    const inner = await composeEml({ attachments: [pdfAttachment(await makePdf(1), 'inner.pdf')] });
    const input = composeEmlStream({
      attachments: [
        { filename: 'fwd.eml', content: inner, contentType: 'message/rfc822', contentDisposition: 'inline' },
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['inner.pdf']);
  });

  it('opens forwards up to maxDepth levels and lists a deeper one as an attachment', async () => {
    let message = await composeEml({ attachments: [pdfAttachment(await makePdf(1), 'deep.pdf')] });
    for (let level = 0; level < 4; level += 1) {
      message = await composeEml({ attachments: [forwardedAttachment(message, `level-${level}.eml`)] });
    }
    // The PDF sits in the 4th attached message: too deep for the default of 3.
    const shallow = await extractDocuments(Readable.from([message]), workDir);
    expect(shallow.documents).toEqual([]);
    expect(shallow.others).toEqual([
      { filename: 'level-0.eml', contentType: 'message/rfc822', size: expect.any(Number) },
    ]);

    const deep = await extractDocuments(Readable.from([message]), join(workDir, 'deep'), { maxDepth: 4 });
    expect(deep.documents.map((found) => found.filename)).toEqual(['deep.pdf']);
  });

  it('keeps two PDFs in order around an inline logo, which is listed as an other part', async () => {
    const input = composeEmlStream({
      html: '<p>Please fax</p><img src="cid:logo@example.com">',
      attachments: [
        pdfAttachment(await makePdf(1, { label: 'a' }), 'a.pdf'),
        { filename: 'logo.png', content: TINY_PNG, contentType: 'image/png', cid: 'logo@example.com' },
        pdfAttachment(await makePdf(1, { label: 'b' }), 'b.pdf'),
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['a.pdf', 'b.pdf']);
    expect(result.others).toEqual([
      { filename: 'logo.png', contentType: 'image/png', size: TINY_PNG.length },
    ]);
  });

  it('counts the same PDF attached twice once, and leaves only its file behind', async () => {
    const pdf = await makePdf(3);
    const input = composeEmlStream({
      attachments: [pdfAttachment(pdf, 'one.pdf'), pdfAttachment(pdf, 'again.pdf')],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => found.filename)).toEqual(['one.pdf']);
    expect(await readdir(workDir)).toEqual([result.documents[0]!.path.split('/').pop()]);
  });

  it('lists the attachments that are not documents and keeps no file of them', async () => {
    const binary = Buffer.from([0x00, 0x01, 0x02, 0xfe, 0x00, 0x99, 0x00, 0x07]);
    const csv = Buffer.from('Item,Amount\nWidgets,10\n');
    const input = composeEmlStream({
      attachments: [
        { filename: 'drawing.dwg', content: binary, contentType: 'application/acad' },
        { filename: 'numbers.csv', content: csv, contentType: 'text/csv' },
        { content: Buffer.from([0, 0, 0, 0]), contentType: 'application/octet-stream', filename: false },
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents).toEqual([]);
    expect(result.others).toEqual([
      { filename: 'drawing.dwg', contentType: 'application/acad', size: binary.length },
      { filename: 'numbers.csv', contentType: 'text/csv', size: csv.length },
      { filename: 'attachment-3', contentType: 'application/octet-stream', size: 4 },
    ]);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('keeps every other document by its bytes, in order, with the name the sender gave it', async () => {
    const zip = Buffer.concat([
      Buffer.from('PK\u0003\u0004'),
      Buffer.alloc(26),
      Buffer.from('%PDF-1.4 stored'),
    ]);
    const input = composeEmlStream({
      html: '<p>Hello</p><img src="cid:logo@example.com">',
      attachments: [
        { filename: 'logo.png', content: TINY_PNG, contentType: 'image/png', cid: 'logo@example.com' },
        { filename: 'photo.png', content: TINY_PNG, contentType: 'application/octet-stream' },
        { filename: 'notes.txt', content: Buffer.from('Call me.\n'), contentType: 'text/plain' },
        { filename: 'files.zip', content: zip, contentType: 'application/zip' },
      ],
    });
    const result = await extractDocuments(input, workDir);
    expect(result.documents.map((found) => [found.filename, found.kind.kind])).toEqual([
      ['photo.png', 'image'],
      ['notes.txt', 'text'],
      ['files.zip', 'archive'],
    ]);
    expect(result.others).toEqual([
      { filename: 'logo.png', contentType: 'image/png', size: TINY_PNG.length },
    ]);
    expect(await readFile(result.documents[0]!.path)).toEqual(TINY_PNG);
  });

  it('streams a 20 MB attachment to disk with the right size and sha256', async () => {
    const pdf = await makePdf(1, { padBytes: 20 * 1024 * 1024 });
    const result = await extractDocuments(
      composeEmlStream({ attachments: [pdfAttachment(pdf, 'big.pdf')] }),
      workDir,
    );
    expect(result.documents).toHaveLength(1);
    expect(result.documents[0]!.size).toBe(pdf.length);
    expect((await stat(result.documents[0]!.path)).size).toBe(pdf.length);
    expect(result.documents[0]!.sha256).toBe(sha256(pdf));
    expect(sha256(await readFile(result.documents[0]!.path))).toBe(sha256(pdf));
  });
});

describe('extractDocuments: header fields', () => {
  it('reads the sender and the threading headers', async () => {
    const input = composeEmlStream({
      from: '"Müller, Anna" <anna@example.com>',
      inReplyTo: '<prev@example.com>',
      references: ['<first@example.com>', '<prev@example.com>'],
      attachments: [pdfAttachment(await makePdf(1))],
    });
    const result = await extractDocuments(input, workDir);
    expect(result).toMatchObject({
      from: { address: 'anna@example.com', name: 'Müller, Anna' },
      fromCount: 1,
      messageId: '<test-1@example.com>',
      subject: 'Fax test',
      inReplyTo: '<prev@example.com>',
      references: ['<first@example.com>', '<prev@example.com>'],
    });
    expect(result.date?.toISOString()).toBe('2026-11-27T10:00:00.000Z');
  });

  it('gives no sender for a From with two mailboxes, or two From headers', async () => {
    const two = await extractDocuments(composeEmlStream({ from: 'a@example.com, b@example.com' }), workDir);
    expect(two).toMatchObject({ from: null, fromCount: 2 });

    const raw = 'From: a@example.com\r\nFrom: b@example.com\r\nSubject: x\r\n\r\nbody\r\n';
    const doubled = await extractDocuments(Readable.from([Buffer.from(raw)]), workDir);
    expect(doubled).toMatchObject({ from: null, fromCount: 2 });
  });

  it('gives nulls for a missing From, an unreadable Date and missing ids', async () => {
    const raw = 'Subject: hello\r\nDate: not a date\r\n\r\nbody\r\n';
    const result = await extractDocuments(Readable.from([Buffer.from(raw)]), workDir);
    expect(result).toMatchObject({
      from: null,
      fromCount: 0,
      messageId: null,
      inReplyTo: null,
      references: [],
      date: null,
      subject: 'hello',
      documents: [],
    });
  });

  it('keeps a punycode domain in its ASCII form, as SMTP uses it', async () => {
    const raw = 'From: Bob <bob@xn--bcher-kva.example>\r\nSubject: x\r\n\r\nbody\r\n';
    const result = await extractDocuments(Readable.from([Buffer.from(raw)]), workDir);
    expect(result.from).toEqual({ address: 'bob@xn--bcher-kva.example', name: 'Bob' });
  });
});

describe('extractDocuments: failures', () => {
  it('refuses a message whose MIME header is over the limit, and removes PDFs already written', async () => {
    const input = composeEmlStream({
      attachments: [
        pdfAttachment(await makePdf(1), 'kept-then-removed.pdf'),
        { filename: 'x.txt', content: 'x', headers: { 'X-Padding': 'a '.repeat(6000) } },
      ],
    });
    const error = await extractDocuments(input, workDir, { maxHeaderSize: 4096 }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(FaxError);
    expect(error).toMatchObject({ code: 'bad_document', smtpCode: 554, enhancedCode: '5.6.0' });
    expect((error as Error).message).toMatch(/header is larger than 4 KB/);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('refuses more attachments than maxParts, forwarded ones included', async () => {
    const inner = await composeEml({ attachments: [pdfAttachment(await makePdf(1), 'inner.pdf')] });
    const input = composeEmlStream({
      attachments: [pdfAttachment(await makePdf(1, { label: 'a' }), 'a.pdf'), forwardedAttachment(inner)],
    });
    const error = await extractDocuments(input, workDir, { maxParts: 2 }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: 'bad_document',
      message: expect.stringMatching(/more than 2 attachments/),
    });
    expect(await readdir(workDir)).toEqual([]);
  });

  it('refuses a message with more MIME nodes than mailsplit is allowed to build', async () => {
    const parts = Array.from(
      { length: 30 },
      (_, n) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${n}\r\n`,
    );
    const raw = `From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts.join('')}--b--\r\n`;
    const error = await extractDocuments(Readable.from([Buffer.from(raw)]), workDir, { maxParts: 2 }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({
      code: 'bad_document',
      message: expect.stringMatching(/more than 24 MIME parts/),
    });
  });

  it('stops on abort, removes its files and leaves the input stream undestroyed', async () => {
    const eml = await composeEml({
      attachments: [
        pdfAttachment(await makePdf(1), 'a.pdf'),
        pdfAttachment(await makePdf(1, { padBytes: 2_000_000 }), 'b.pdf'),
      ],
    });
    const input = new PassThrough();
    const controller = new AbortController();
    const pending = extractDocuments(input, workDir, {}, controller.signal);
    input.write(eml.subarray(0, eml.length - 500_000));
    // Wait until the first PDF is on disk, so there is something to clean up.
    while ((await readdir(workDir)).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    expect(await readdir(workDir)).toEqual([]);
    expect(input.destroyed).toBe(false);
    input.end(eml.subarray(eml.length - 500_000));
  });

  it('rejects with the input stream error and cleans up', async () => {
    const eml = await composeEml({
      attachments: [pdfAttachment(await makePdf(1, { padBytes: 500_000 }), 'a.pdf')],
    });
    const input = new PassThrough();
    const pending = extractDocuments(input, workDir);
    input.write(eml.subarray(0, 300_000));
    setTimeout(() => input.destroy(new Error('connection reset')), 20);
    await expect(pending).rejects.toThrow('connection reset');
    expect(await readdir(workDir)).toEqual([]);
  });

  it('ends at once for a stream that was cut off before the parse began, with an error or without', async () => {
    const eml = await composeEml({ attachments: [pdfAttachment(await makePdf(1), 'a.pdf')] });
    const failed = new PassThrough();
    failed.on('error', () => undefined);
    failed.write(eml.subarray(0, 2000));
    failed.destroy(new Error('connection reset'));
    await new Promise((resolve) => failed.once('close', resolve));
    await expect(extractDocuments(failed, workDir)).rejects.toThrow('connection reset');
    const closed = new PassThrough();
    closed.write(eml.subarray(0, 2000));
    closed.destroy();
    await new Promise((resolve) => closed.once('close', resolve));
    await expect(extractDocuments(closed, workDir)).rejects.toThrow('the message did not arrive in full');
    expect(await readdir(workDir)).toEqual([]);
  });
});
