import { rmSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import {
  makeThrowawaySigner,
  mimeWithPdf,
  opaqueSigned,
  pgpEncrypted,
  smimeEncrypted,
} from '../helpers/smimeFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Signed and encrypted mail as Outlook, Thunderbird and GnuPG users send it, made with OpenSSL and GnuPG and sent
 * raw over real SMTP. An opaque-signed message is faxed from the message inside its signature; encrypted mail is
 * refused with advice, and nothing is faxed.
 */
const TO = '+15551234567@fax.localhost';
const headers = { from: 'alice@example.com', to: TO, subject: 'Signed referral' };

let dir: string;
let signer: { cert: string; key: string };
let env: TestDaemon;

beforeAll(async () => {
  dir = makeFixtureDir();
  signer = makeThrowawaySigner(dir);
  env = await startTestDaemon({ yaml: 'header:\n  enabled: false\n' });
});
afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function sendRaw(raw: Buffer) {
  return sendMail(env.smtpPort, { envelope: { from: 'alice@example.com', to: [TO] }, raw });
}

async function jobCount(): Promise<number> {
  return (await env.daemon.store.listJobs({ limit: 1000 })).length;
}

describe('signed and encrypted mail', () => {
  it('faxes the PDF inside an opaque-signed S/MIME message (smime.p7m, signed-data)', async () => {
    const pdf = await makePdf(3, { label: 'signed' });
    const raw = opaqueSigned(dir, mimeWithPdf(pdf, 'Referral.pdf'), signer, headers);
    expect(raw.toString('latin1')).toMatch(/smime-type=signed-data/);
    const before = env.simulator.faxes().length;
    const result = await sendRaw(raw);
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const fax = await waitFor(
      () =>
        env.simulator
          .faxes()
          .slice(before)
          .find((sent) => sent.media?.sha256),
      30_000,
      'the fax media fetched',
    );
    expect(fax.documentPages).toBe(3);
    const jobId = /Queued (\S+) /.exec(result.response)![1]!;
    const job = await env.daemon.store.getJob(jobId);
    const message = await env.daemon.store.getMessage(job!.message_row_id);
    const document = await env.daemon.store.getDocument(message!.document_id);
    // The receipts name the file as the sender attached it inside the signature.
    expect(document?.filename).toBe('Referral.pdf');
  });

  it('refuses S/MIME encrypted mail: 550 5.6.0, send it unencrypted, no job', async () => {
    const raw = smimeEncrypted(dir, mimeWithPdf(await makePdf(1), 'Secret.pdf'), signer.cert, headers);
    expect(raw.toString('latin1')).toMatch(/smime-type=enveloped-data/);
    const jobs = await jobCount();
    const before = env.simulator.faxes().length;
    const result = await sendRaw(raw);
    expect(result.code).toBe(550);
    expect(result.response).toMatch(/^550 5\.6\.0 smime\.p7m is encrypted; send it unencrypted/);
    expect(await jobCount()).toBe(jobs);
    expect(env.simulator.faxes().length).toBe(before);
  });

  it('refuses PGP/MIME encrypted mail: 550 5.6.0, send it unencrypted, no job', async () => {
    const raw = pgpEncrypted(dir, mimeWithPdf(await makePdf(1), 'Secret.pdf'), headers);
    const jobs = await jobCount();
    const before = env.simulator.faxes().length;
    const result = await sendRaw(raw);
    expect(result.code).toBe(550);
    expect(result.response).toMatch(/^550 5\.6\.0 encrypted\.asc is encrypted; send it unencrypted/);
    expect(await jobCount()).toBe(jobs);
    expect(env.simulator.faxes().length).toBe(before);
  });
});
