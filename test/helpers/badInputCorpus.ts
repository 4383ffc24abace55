import { crc32, deflateRawSync } from 'node:zlib';

import {
  encryptPdf,
  garbagePdf,
  hasQpdf,
  makePdf,
  manyObjectsPdf,
  objectStreamBombPdf,
  truncatePdf,
} from './pdfFixtures.js';

/**
 * Hostile and odd inputs for the SMTP intake, generated rather than stored: each entry is a raw message
 * and the reply a careful gateway gives it. `expect` is the exact reply class and words; a message that is in fact
 * fine (odd but valid) must be queued (250).
 */
export interface CorpusCase {
  name: string;
  raw: Buffer;
  expect: RegExp;
  /** Needs the qpdf binary (encrypted PDFs). */
  needsQpdf?: boolean;
}

const FROM = 'alice@example.com';
export const CORPUS_RCPT = '+15551234567@fax.localhost';

/** A message around `body` (already MIME-formatted, after the headers given). */
function message(headers: string[], body: string | Buffer): Buffer {
  const head = [
    `From: ${FROM}`,
    `To: ${CORPUS_RCPT}`,
    'Subject: corpus',
    'MIME-Version: 1.0',
    ...headers,
  ].join('\r\n');
  return Buffer.concat([
    Buffer.from(`${head}\r\n\r\n`, 'latin1'),
    Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'),
  ]);
}

const base64Lines = (bytes: Buffer) => bytes.toString('base64').replace(/.{76}/g, '$&\r\n');

/** multipart/mixed with one text part and one attachment part. */
function withAttachment(
  content: Buffer,
  options: { filename?: string; type?: string; extraHeaders?: string[] } = {},
) {
  const boundary = 'corpus-boundary';
  const name = options.filename ?? 'document.pdf';
  return message(
    [`Content-Type: multipart/mixed; boundary="${boundary}"`],
    [
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'See attachment.',
      `--${boundary}`,
      `Content-Type: ${options.type ?? 'application/pdf'}; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      'Content-Transfer-Encoding: base64',
      ...(options.extraHeaders ?? []),
      '',
      base64Lines(content),
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
}

/** A zip archive (stored by hand: local header, data, central directory) of one file of `size` zero bytes. */
export function zipBomb(size: number, inner = 'zeros.bin'): Buffer {
  const data = deflateRawSync(Buffer.alloc(size), { level: 9 });
  const crc = crc32(Buffer.alloc(size));
  const name = Buffer.from(inner);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** `depth` multipart/mixed containers inside each other, the PDF in the innermost. */
function nestedMultipart(depth: number, pdf: Buffer): Buffer {
  let body = [
    'Content-Type: application/pdf; name="deep.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(pdf),
  ].join('\r\n');
  for (let level = depth; level > 0; level--) {
    const boundary = `b${level}`;
    body = [
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      body,
      `--${boundary}--`,
      '',
    ].join('\r\n');
  }
  const split = body.indexOf('\r\n');
  return message([body.slice(0, split)], body.slice(split + 2));
}

/** Forwarded messages inside forwarded messages, `depth` deep, the PDF in the innermost. */
function nestedForwards(depth: number, pdf: Buffer): Buffer {
  let inner = withAttachment(pdf, { filename: 'inner.pdf' });
  for (let level = 0; level < depth; level++) {
    const boundary = `fw${level}`;
    inner = message(
      [`Content-Type: multipart/mixed; boundary="${boundary}"`],
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="fw${level}.eml"\r\n\r\n`,
        ),
        inner,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    );
  }
  return inner;
}

export async function buildCorpus(): Promise<CorpusCase[]> {
  const pdf = await makePdf(2, { label: 'corpus' });
  const cases: CorpusCase[] = [
    {
      name: 'multipart without a boundary parameter',
      raw: message(
        ['Content-Type: multipart/mixed'],
        `--x\r\nContent-Type: application/pdf\r\n\r\n${base64Lines(pdf)}\r\n--x--\r\n`,
      ),
      expect: /^550 5\.6\.0 No document found in the message/,
    },
    {
      name: 'multipart never closed (the final boundary is missing)',
      raw: withAttachment(pdf).subarray(0, withAttachment(pdf).length - '--corpus-boundary--\r\n'.length),
      expect: /^250 2\.0\.0 Queued /,
    },
    {
      name: 'garbage instead of MIME (binary noise, NUL bytes, no headers)',
      raw: Buffer.concat([Buffer.from('\0\xff\xfe garbage\r\n', 'latin1'), Buffer.alloc(4096, 0xa5)]),
      expect: /^550 5\.7\.1 The From header must name exactly one sender/,
    },
    {
      name: 'broken base64 in the PDF part (every line cut in half by junk)',
      raw: Buffer.from(
        withAttachment(pdf)
          .toString('latin1')
          .replace(/^([A-Za-z0-9+/]{40})([A-Za-z0-9+/]{36})\r$/gm, '$1!!**~~$2\r'),
        'latin1',
      ),
      // Invalid characters are skipped by base64 decoders, as mail clients do: the PDF survives intact.
      expect: /^250 2\.0\.0 Queued /,
    },
    {
      name: 'base64 with a chunk missing in the middle',
      raw: (() => {
        let line = 0;
        const text = withAttachment(pdf).toString('latin1');
        // Drops the 10th line of base64 (57 bytes of the PDF), as a broken forwarder might.
        return Buffer.from(
          text.replace(/^[A-Za-z0-9+/]{76}\r\n/gm, (found) => (++line === 10 ? '' : found)),
          'latin1',
        );
      })(),
      expect: /^554 5\.6\.0 document\.pdf is damaged or not a PDF \(cannot be read\)$/,
    },
    {
      name: 'a 2 MB header',
      raw: message(
        [
          `X-Huge: ${'a'.repeat(998)}\r\n ${Array.from({ length: 2100 }, () => 'b'.repeat(998)).join('\r\n ')}`,
        ],
        'body\r\n',
      ),
      expect: /^554 5\.6\.0 The message could not be read: a MIME header is larger than 1\.0 MB/,
    },
    {
      name: '60 levels of nested multipart with the PDF at the bottom',
      raw: nestedMultipart(60, pdf),
      expect: /^250 2\.0\.0 Queued /,
    },
    {
      // The three outer forwards are opened; the fourth is listed unopened (extractDocuments maxDepth).
      name: 'forwards nested 6 deep (more than the 3 levels opened)',
      raw: nestedForwards(6, pdf),
      expect: /^550 5\.6\.0 No document found in the message \(found: fw2\.eml \(message\/rfc822\)\)/,
    },
    {
      name: '300 attachments',
      raw: (() => {
        const parts = Array.from({ length: 300 }, (_, i) =>
          [
            `--m`,
            `Content-Type: text/plain; name="n${i}.txt"`,
            `Content-Disposition: attachment; filename="n${i}.txt"`,
            '',
            `part ${i}`,
          ].join('\r\n'),
        );
        return message(['Content-Type: multipart/mixed; boundary="m"'], `${parts.join('\r\n')}\r\n--m--\r\n`);
      })(),
      expect: /^554 5\.6\.0 The message could not be read: it has more than 100 attachments/,
    },
    {
      name: 'odd charsets and file names (RFC 2231 in an unknown charset, path traversal, control characters, 300 characters)',
      raw: message(
        ['Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=', 'Content-Type: multipart/mixed; boundary="o"'],
        [
          '--o',
          'Content-Type: text/plain; charset=x-unknown-charset',
          '',
          '\xff\xfe odd bytes',
          '--o',
          "Content-Type: application/octet-stream; name*=x-klingon''%FF%FE..%2F..%2Fetc%2Fpasswd%0D%0A250%20fake.pdf",
          "Content-Disposition: attachment; filename*=x-klingon''%FF%FE..%2F..%2Fetc%2Fpasswd%0D%0A250%20fake.pdf",
          'Content-Transfer-Encoding: base64',
          '',
          base64Lines(pdf),
          '--o',
          `Content-Type: application/pdf; name="${'ü'.repeat(300)}.pdf"`,
          'Content-Transfer-Encoding: base64',
          '',
          base64Lines(pdf),
          '--o--',
          '',
        ].join('\r\n'),
      ),
      expect: /^250 2\.0\.0 Queued /,
    },
    {
      name: 'a damaged PDF with a file name that tries to split the reply',
      raw: withAttachment(garbagePdf(), {
        filename: '=?utf-8?B?' + Buffer.from('evil\r\n250 OK.pdf').toString('base64') + '?=',
      }),
      expect: /^554 5\.6\.0 evil {2}250 OK\.pdf is damaged or not a PDF \(cannot be read\)$/,
    },
    {
      name: 'truncated PDF',
      raw: withAttachment(truncatePdf(await makePdf(3)), { filename: 'cut.pdf' }),
      expect: /^554 5\.6\.0 cut\.pdf is damaged or not a PDF \(cannot be read\)$/,
    },
    {
      name: 'garbage PDF (a %PDF- header and noise)',
      raw: withAttachment(garbagePdf(), { filename: 'noise.pdf' }),
      expect: /^554 5\.6\.0 noise\.pdf is damaged or not a PDF \(cannot be read\)$/,
    },
    {
      name: 'PDF with 150,000 objects',
      raw: withAttachment(manyObjectsPdf(150_000), { filename: 'complex.pdf' }),
      expect:
        /^554 5\.6\.0 complex\.pdf is too complex to fax \(it has more than 100000 objects\); print it to a new PDF and send that instead$/,
    },
    {
      name: 'PDF whose object stream inflates to 1 GB',
      raw: withAttachment(objectStreamBombPdf(1024 * 1024 * 1024), { filename: 'bomb.pdf' }),
      expect:
        /^554 5\.6\.0 bomb\.pdf is too complex to fax \(it has compressed object streams that expand to more than 64 MB\); print it to a new PDF and send that instead$/,
    },
    {
      name: 'PDF of 400 pages',
      raw: withAttachment(await makePdf(400), { filename: 'long.pdf' }),
      expect: /^554 5\.6\.0 long\.pdf has 400 pages; the most a fax can carry is 350$/,
    },
    {
      name: 'zip bomb named invoice.pdf, declared application/pdf',
      raw: withAttachment(zipBomb(256 * 1024 * 1024, 'invoice.bin'), { filename: 'invoice.pdf' }),
      // A ZIP is recognised by its bytes whatever it is called, and refused with advice.
      expect: /^550 5\.6\.0 invoice\.pdf is an archive; attach the files themselves$/,
    },
  ];
  if (hasQpdf || process.env.CI) {
    cases.push(
      {
        name: 'PDF that needs a password to open',
        raw: withAttachment(await encryptPdf(pdf, { userPassword: 'u', ownerPassword: 'o' }), {
          filename: 'locked.pdf',
        }),
        expect: /^554 5\.6\.0 locked\.pdf needs a password to open$/,
        needsQpdf: true,
      },
      {
        name: 'PDF with only an owner password (opens without one): faxed',
        raw: withAttachment(await encryptPdf(pdf, { userPassword: '', ownerPassword: 'o' }), {
          filename: 'statement.pdf',
        }),
        expect: /^250 2\.0\.0 Queued /,
        needsQpdf: true,
      },
    );
  }
  return cases;
}
