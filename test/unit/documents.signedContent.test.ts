import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findSignedContent } from '../../src/documents/signedContent.js';
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
});
