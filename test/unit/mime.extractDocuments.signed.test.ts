import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { extractDocuments } from '../../src/documents/extractDocuments.js';
import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeThrowawaySigner, mimeWithPdf, opaqueSigned } from '../helpers/smimeFixtures.js';

/*
 * An opaque-signed message, made by OpenSSL as Outlook sends one: the message inside the signature is the message
 * itself, its PDF the document and its text the body (a cover page's comments); nothing of the signed blob is left
 * behind in the work folder.
 */
let dir: string;
let signer: { cert: string; key: string };
beforeAll(() => {
  dir = makeFixtureDir();
  signer = makeThrowawaySigner(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extractDocuments on opaque-signed S/MIME', () => {
  it('finds the PDF and the body inside the signature', async () => {
    const raw = opaqueSigned(
      dir,
      mimeWithPdf(await makePdf(1), 'Referral.pdf', 'Please fax to Dr Jones.'),
      signer,
      {
        from: 'alice@example.com',
        to: '+15551234567@fax.localhost',
        subject: 'Signed referral',
      },
    );
    const work = join(dir, 'work');
    const result = await extractDocuments(Readable.from([raw]), work);
    expect(result.subject).toBe('Signed referral');
    expect(result.documents.map((found) => [found.filename, found.kind.kind])).toEqual([
      ['Referral.pdf', 'pdf'],
    ]);
    expect(result.others).toEqual([]);
    expect(result.text).toContain('Please fax to Dr Jones.');
    // The document's own file stays for the caller; the signed blob it came out of does not.
    expect(readdirSync(work)).toEqual([result.documents[0]!.path.split('/').pop()]);
  });
});
