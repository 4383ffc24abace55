import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeFixtureDir } from '../helpers/documentFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { pdfText } from '../helpers/renderPdf.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { encodeTnef } from '../helpers/tnefEncoder.js';

/*
 * Outlook's winmail.dat where Outlook puts it besides the top of a message: inside a message forwarded as an
 * attachment (message/rfc822), and a forwarded Outlook message inside a winmail.dat (a TNEF stream in a TNEF
 * stream). The PDFs inside are faxed, in order, over real SMTP.
 */
let dir: string;
let env: TestDaemon;

beforeAll(async () => {
  dir = makeFixtureDir();
  env = await startTestDaemon({ yaml: 'header:\n  enabled: false\n' });
});
afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function faxedText(before: number, name: string): Promise<{ pages: number; text: string[] }> {
  const fax = await waitFor(
    () =>
      env.simulator
        .faxes()
        .slice(before)
        .find((sent) => sent.media?.sha256),
    30_000,
    'the fax media fetched',
  );
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(await (await fetch(fax.mediaUrl!)).arrayBuffer()));
  const text = pdfText(path)
    .split('\f')
    .slice(0, -1)
    .map((page) => page.trim());
  return { pages: fax.documentPages!, text };
}

describe("Outlook's winmail.dat, nested", () => {
  it('faxes the PDF in a winmail.dat inside a forwarded message', async () => {
    const winmail = encodeTnef([{ longName: 'Invoice.pdf', data: await makePdf(2, { label: 'invoice' }) }]);
    const forwarded = await new MailComposer({
      from: 'bob@example.org',
      to: 'alice@example.com',
      subject: 'Invoice',
      text: 'See attached',
      attachments: [{ filename: 'winmail.dat', content: winmail, contentType: 'application/ms-tnef' }],
    })
      .compile()
      .build();
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Fwd: Invoice',
      text: 'Please fax the invoice in the forwarded mail',
      attachments: [{ filename: 'Invoice.eml', content: forwarded, contentType: 'message/rfc822' }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { pages, text } = await faxedText(before, 'forwarded.pdf');
    expect(pages).toBe(2);
    expect(text[0]).toContain('invoice page 1');
  });

  it('faxes the PDFs of a winmail.dat and of the Outlook message forwarded inside it, in order', async () => {
    const forwarded = encodeTnef([
      { longName: 'Referral.pdf', data: await makePdf(1, { label: 'referral' }) },
    ]);
    const winmail = encodeTnef([
      { longName: 'Cover.pdf', data: await makePdf(1, { label: 'cover' }) },
      { longName: 'FW: Referral', data: forwarded, embedded: true },
    ]);
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Referral',
      attachments: [{ filename: 'winmail.dat', content: winmail, contentType: 'application/ms-tnef' }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued/);
    const { pages, text } = await faxedText(before, 'nested.pdf');
    expect(pages).toBe(2);
    expect(text[0]).toContain('cover page 1');
    expect(text[1]).toContain('referral page 1');
  });
});
