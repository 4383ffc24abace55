import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findSignedContent, readRanges } from '../../src/documents/signedContent.js';
import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { makeThrowawaySigner } from '../helpers/smimeFixtures.js';

/*
 * CMS made by OpenSSL as signers make it: DER with definite lengths (what Outlook sends), and BER streamed with
 * indefinite lengths and the content in chunks. The ranges found must give back the signed MIME entity exactly.
 */
let dir: string;
let signer: { cert: string; key: string };
let entity: Buffer;
let entityPath: string;

beforeAll(() => {
  dir = makeFixtureDir();
  signer = makeThrowawaySigner(dir);
  // Large enough that a streaming signer writes it in several chunks.
  const lines = Array.from({ length: 4000 }, (_, i) => `line ${i} of the signed letter`).join('\r\n');
  entity = Buffer.from(`Content-Type: text/plain; charset=us-ascii\r\n\r\n${lines}\r\n`, 'latin1');
  entityPath = join(dir, 'entity.txt');
  writeFileSync(entityPath, entity);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cms(name: string, args: string[]): string {
  const out = join(dir, name);
  execFileSync('openssl', ['cms', ...args, '-binary', '-in', entityPath, '-outform', 'DER', '-out', out]);
  return out;
}

function contentOf(path: string, ranges: { start: number; end: number }[]): Buffer {
  const bytes = readFileSync(path);
  return Buffer.concat(ranges.map((range) => bytes.subarray(range.start, range.end)));
}

describe('findSignedContent', () => {
  it('finds the content of DER signed-data (definite lengths, one OCTET STRING)', async () => {
    const path = cms('der.p7m', ['-sign', '-nodetach', '-signer', signer.cert, '-inkey', signer.key]);
    const ranges = await findSignedContent(path);
    expect(ranges).toHaveLength(1);
    expect(contentOf(path, ranges!).equals(entity)).toBe(true);
  });

  it('finds the content of streamed BER signed-data (indefinite lengths, the content in chunks)', async () => {
    const path = cms('ber.p7m', [
      '-sign',
      '-nodetach',
      '-stream',
      '-signer',
      signer.cert,
      '-inkey',
      signer.key,
    ]);
    const ranges = await findSignedContent(path);
    expect(ranges!.length).toBeGreaterThan(1);
    expect(contentOf(path, ranges!).equals(entity)).toBe(true);
  });

  it('finds nothing in a detached signature, an encrypted message or a file cut short', async () => {
    const detached = cms('detached.p7s', ['-sign', '-signer', signer.cert, '-inkey', signer.key]);
    expect(await findSignedContent(detached)).toBeNull();
    const encrypted = cms('enveloped.p7m', ['-encrypt', '-aes256', '-recip', signer.cert]);
    expect(await findSignedContent(encrypted)).toBeNull();
    const whole = readFileSync(
      cms('whole.p7m', ['-sign', '-nodetach', '-signer', signer.cert, '-inkey', signer.key]),
    );
    const cut = join(dir, 'cut.p7m');
    writeFileSync(cut, whole.subarray(0, 200));
    expect(await findSignedContent(cut)).toBeNull();
  });

  it('reads the chunks back through one file, batched, exactly as signed', async () => {
    const path = cms('ber-read.p7m', [
      '-sign',
      '-nodetach',
      '-stream',
      '-signer',
      signer.cert,
      '-inkey',
      signer.key,
    ]);
    const ranges = (await findSignedContent(path))!;
    const batches: Buffer[] = [];
    for await (const batch of readRanges(path, ranges)) batches.push(batch);
    expect(Buffer.concat(batches).equals(entity)).toBe(true);
    // Several small chunks come out as one batch, not a write each.
    expect(batches.length).toBeLessThan(ranges.length);
  });

  it('gives up on content cut into tiny chunks (a cheap file that would cost millions of steps)', async () => {
    const path = join(dir, 'tiny-chunks.p7m');
    writeFileSync(path, berSignedData(Buffer.alloc(50_000, 0x41), 1));
    expect(await findSignedContent(path)).toBeNull();
    // The same bytes in ordinary chunks are found.
    const ordinary = join(dir, 'ordinary-chunks.p7m');
    writeFileSync(ordinary, berSignedData(Buffer.alloc(50_000, 0x41), 1000));
    expect(contentOf(ordinary, (await findSignedContent(ordinary))!)).toEqual(Buffer.alloc(50_000, 0x41));
  });
});

/** SignedData in BER with indefinite lengths, its content as an OCTET STRING in chunks of `chunk` bytes. */
function berSignedData(content: Buffer, chunk: number): Buffer {
  const oid = (hex: string) => Buffer.concat([Buffer.from([0x06, hex.length / 2]), Buffer.from(hex, 'hex')]);
  const endMark = Buffer.from([0, 0]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < content.length; at += chunk) {
    const piece = content.subarray(at, at + chunk);
    chunks.push(Buffer.from([0x04, 0x82, piece.length >> 8, piece.length & 0xff]), piece);
  }
  return Buffer.concat([
    Buffer.from([0x30, 0x80]),
    oid('2a864886f70d010702'),
    Buffer.from([0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x80]),
    oid('2a864886f70d010701'),
    Buffer.from([0xa0, 0x80, 0x24, 0x80]),
    ...chunks,
    endMark,
    endMark,
    endMark,
    Buffer.from([0x31, 0x00]),
    endMark,
    endMark,
    endMark,
  ]);
}
