import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_ATTACHMENTS, MAX_NESTING, readTnef } from '../../src/documents/convert/readTnef.js';
import { sniffDocumentKind } from '../../src/documents/convert/sniffDocumentKind.js';
import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { encodeTnef } from '../helpers/tnefEncoder.js';

/* Outlook's winmail.dat: the files inside, with the names the sender gave them; the RTF mail body is not a file. */
let dir: string;
beforeAll(() => {
  dir = makeFixtureDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTnef', () => {
  it("finds the PDF and the Word file inside, by their long names, as Debian's tnef does", async () => {
    const pdf = await makePdf(2, { label: 'contract' });
    const docx = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 7)]);
    const winmail = encodeTnef([
      { longName: 'Signed contract.pdf', data: pdf },
      { longName: 'Cover letter.docx', data: docx },
    ]);
    expect(sniffDocumentKind(winmail)).toEqual({ kind: 'tnef' });

    const found = readTnef(winmail);
    expect(found.map((file) => file.name)).toEqual(['Signed contract.pdf', 'Cover letter.docx']);
    expect(found[0]!.data.equals(pdf)).toBe(true);
    expect(found[1]!.data.equals(docx)).toBe(true);

    // Cross-check: Debian's tnef extracts the same files with the same names from the same bytes.
    const path = join(dir, 'winmail.dat');
    writeFileSync(path, winmail);
    const out = join(dir, 'tnef-out');
    mkdirSync(out);
    execFileSync('tnef', ['--number-backups', '-C', out, path]);
    expect(readdirSync(out).sort()).toEqual(['Cover letter.docx', 'Signed contract.pdf']);
    expect(readFileSync(join(out, 'Signed contract.pdf')).equals(pdf)).toBe(true);
  });

  it('unwraps a winmail.dat inside a winmail.dat, and a message forwarded as an attachment, in order', async () => {
    const inner = encodeTnef([{ longName: 'Inner.pdf', data: await makePdf(1, { label: 'inner' }) }]);
    const forwarded = encodeTnef([{ longName: 'Forwarded.pdf', data: await makePdf(1, { label: 'fwd' }) }]);
    const outer = encodeTnef([
      { longName: 'First.pdf', data: await makePdf(1, { label: 'first' }) },
      { longName: 'winmail.dat', data: inner },
      { longName: 'FW: Referral', data: forwarded, embedded: true },
    ]);
    expect(readTnef(outer).map((file) => file.name)).toEqual(['First.pdf', 'Inner.pdf', 'Forwarded.pdf']);
  });

  it(`stops unwrapping ${MAX_NESTING} levels down, and counts every level's files towards the limit`, () => {
    let nested = encodeTnef([{ longName: 'deep.pdf', data: Buffer.from('%PDF-1.4 deep') }]);
    const names: string[][] = [];
    for (let level = 1; level <= MAX_NESTING; level++) {
      names.push(readTnef(nested).map((file) => file.name));
      nested = encodeTnef([
        { longName: `level-${level}.pdf`, data: Buffer.from('%PDF-1.4') },
        { longName: 'winmail.dat', data: nested },
      ]);
    }
    expect(names[0]).toEqual(['deep.pdf']);
    expect(names[MAX_NESTING - 1]).toEqual(['level-2.pdf', 'level-1.pdf', 'deep.pdf']);
    // One more level: the deepest file is out of reach, the rest are read.
    expect(readTnef(nested).map((file) => file.name)).toEqual(['level-3.pdf', 'level-2.pdf', 'level-1.pdf']);

    const half = Array.from({ length: MAX_ATTACHMENTS / 2 + 1 }, (_, i) => ({
      longName: `${i}.txt`,
      data: Buffer.from('x'),
    }));
    const both = encodeTnef([...half, { longName: 'winmail.dat', data: encodeTnef(half) }]);
    expect(() => readTnef(both)).toThrow(expect.objectContaining({ code: 'too_large' }));
  });

  it('refuses a truncated winmail.dat instead of reading past its end', () => {
    const winmail = encodeTnef([{ longName: 'a.pdf', data: Buffer.alloc(1000, 1) }]);
    expect(() => readTnef(winmail.subarray(0, winmail.length - 300))).toThrow(/truncated/);
  });

  it(`refuses more than ${MAX_ATTACHMENTS} attachments`, () => {
    const many = Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => ({
      longName: `${i}.txt`,
      data: Buffer.from('x'),
    }));
    expect(() => readTnef(encodeTnef(many))).toThrow(expect.objectContaining({ code: 'too_large' }));
  });

  it('gives a file with a path in its name only its last part', () => {
    const [file] = readTnef(
      encodeTnef([{ longName: '..\\..\\Windows\\evil.pdf', data: Buffer.from('%PDF-1.4') }]),
    );
    expect(file!.name).toBe('evil.pdf');
  });
});
