import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { DocumentKind } from '../../src/documents/convert/documentKind.js';
import { sniffDocumentFile, sniffDocumentKind } from '../../src/documents/convert/sniffDocumentKind.js';
import { MAGICK, makeFixtureDir, makeHeic } from '../helpers/documentFixtures.js';
import { makeThrowawaySigner } from '../helpers/smimeFixtures.js';

/*
 * Attachments are recognised by their bytes, whatever they were called: these are the first bytes real tools
 * write, and what faxbridge must make of them.
 */
const PDF = '%PDF-1.7\n1 0 obj\n<<>>\nendobj\n';
const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('sniffDocumentKind by signature', () => {
  it.each<[string, Buffer, DocumentKind]>([
    ['a PDF', Buffer.from(PDF), { kind: 'pdf', offset: 0 }],
    ['a PDF behind a UTF-8 BOM', Buffer.from(`\ufeff${PDF}`), { kind: 'pdf', offset: 3 }],
    ['a PDF behind blank lines', Buffer.from(`\r\n\r\n${PDF}`), { kind: 'pdf', offset: 4 }],
    [
      'a PDF behind a PJL header',
      Buffer.from(`\x1b%-12345X@PJL ENTER LANGUAGE=PDF\r\n${PDF}`),
      { kind: 'pdf', offset: 34 },
    ],
    ['junk then %PDF- past 1024 bytes', Buffer.from(`${'x'.repeat(1100)}${PDF}`), { kind: 'text' }],
    ['TIFF, Intel order', hex('49492a00 08000000'), { kind: 'tiff' }],
    ['TIFF, Motorola order', hex('4d4d002a 00000008'), { kind: 'tiff' }],
    ['JPEG', hex('ffd8ffe0 00104a46 4946'), { kind: 'image', format: 'jpeg' }],
    ['PNG', hex('89504e47 0d0a1a0a 0000000d'), { kind: 'image', format: 'png' }],
    ['GIF', Buffer.from('GIF89a\x01\x00'), { kind: 'image', format: 'gif' }],
    [
      'BMP',
      Buffer.concat([Buffer.from('BM'), hex('00000000 00000000 36000000 28000000')]),
      { kind: 'image', format: 'bmp' },
    ],
    ['WebP', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '), { kind: 'image', format: 'webp' }],
    [
      'AVIF',
      Buffer.concat([hex('0000001c'), Buffer.from('ftypavif\0\0\0\0avifmif1miaf')]),
      { kind: 'image', format: 'avif' },
    ],
    [
      'an MP4 video',
      Buffer.concat([hex('00000018'), Buffer.from('ftypisom\0\0\0\0isommp42'), Buffer.alloc(8)]),
      { kind: 'unknown' },
    ],
    ['winmail.dat (TNEF)', hex('789f3e22 0100'), { kind: 'tnef' }],
    [
      'a Word 97 file (OLE2)',
      Buffer.concat([hex('d0cf11e0a1b11ae1'), Buffer.from('WordDocument', 'utf16le')]),
      { kind: 'office', format: 'doc' },
    ],
    [
      'an Excel 97 file (OLE2)',
      Buffer.concat([hex('d0cf11e0a1b11ae1'), Buffer.from('Workbook', 'utf16le')]),
      { kind: 'office', format: 'xls' },
    ],
    [
      'a PowerPoint 97 file (OLE2)',
      Buffer.concat([hex('d0cf11e0a1b11ae1'), Buffer.from('PowerPoint Document', 'utf16le')]),
      { kind: 'office', format: 'ppt' },
    ],
    ['RTF', Buffer.from('{\\rtf1\\ansi Hello}'), { kind: 'office', format: 'rtf' }],
    ['RAR', Buffer.from('Rar!\x1a\x07\x01\x00'), { kind: 'archive', format: 'rar' }],
    ['7z', hex('377abcaf271c 0004'), { kind: 'archive', format: '7z' }],
    [
      'PGP, armoured',
      Buffer.from('-----BEGIN PGP MESSAGE-----\n\nhQEMA'),
      { kind: 'encrypted', format: 'pgp' },
    ],
    ['plain text', Buffer.from('Dear Sir,\r\nplease find…\r\n'), { kind: 'text' }],
    ['binary junk', Buffer.from([0, 1, 2, 3, 4, 5, 250, 251]), { kind: 'unknown' }],
  ])('%s', (_label, head, expected) => {
    expect(sniffDocumentKind(head)).toEqual(expected);
  });
});

describe('sniffDocumentKind on files made by real tools', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeFixtureDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('calls a stored ZIP an archive even when a PDF sits in its first kilobyte', async () => {
    writeFileSync(join(dir, 'invoice.pdf'), PDF);
    const zip = join(dir, 'invoices.zip');
    execFileSync('zip', ['-0', '-j', '-q', zip, join(dir, 'invoice.pdf')]);
    expect(readFileSync(zip).subarray(0, 1024).includes('%PDF-')).toBe(true);
    expect(await sniffDocumentFile(zip)).toEqual({ kind: 'archive', format: 'zip' });
  });

  it('knows S/MIME enveloped (encrypted) and opaque-signed messages apart', () => {
    const { cert, key } = makeThrowawaySigner(dir);
    const content = join(dir, 'content.txt');
    writeFileSync(content, 'Content-Type: text/plain\r\n\r\nhello\r\n');
    const encrypted = execFileSync('openssl', [
      'smime',
      '-encrypt',
      '-binary',
      '-outform',
      'DER',
      '-in',
      content,
      '-aes256',
      cert,
    ]);
    expect(sniffDocumentKind(encrypted)).toEqual({ kind: 'encrypted', format: 'smime' });
    const signed = execFileSync('openssl', [
      'smime',
      '-sign',
      '-nodetach',
      '-binary',
      '-outform',
      'DER',
      '-in',
      content,
      '-signer',
      cert,
      '-inkey',
      key,
    ]);
    expect(sniffDocumentKind(signed)).toEqual({ kind: 'smime-signed' });
  });

  it('recognises a binary PGP message encrypted to a key (gpg -e)', () => {
    const message = join(dir, 'secret.txt');
    writeFileSync(message, 'hello');
    execFileSync(
      'gpg',
      [
        '--batch',
        '--homedir',
        dir,
        '--passphrase',
        '',
        '--quick-gen-key',
        'test@example.com',
        'rsa2048',
        'encr',
        '1d',
      ],
      { stdio: 'pipe' },
    );
    const encrypted = execFileSync('gpg', [
      '--batch',
      '--homedir',
      dir,
      '--trust-model',
      'always',
      '-r',
      'test@example.com',
      '-o',
      '-',
      '-e',
      message,
    ]);
    expect(sniffDocumentKind(encrypted)).toEqual({ kind: 'encrypted', format: 'pgp' });
  });

  it('recognises a HEIC by its ftyp brands', async () => {
    expect(await sniffDocumentFile(makeHeic(dir))).toEqual({ kind: 'image', format: 'heic' });
  });

  it('recognises a multi-page TIFF written by ImageMagick', async () => {
    const path = join(dir, 'scan.tif');
    execFileSync(MAGICK, ['-size', '100x100', 'xc:white', '-monochrome', '-compress', 'Group4', path]);
    expect(await sniffDocumentFile(path)).toEqual({ kind: 'tiff' });
  });
});
