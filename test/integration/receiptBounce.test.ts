import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/** A Postfix-style delivery status notification quoting the headers of the receipt it returns. */
function bounceOf(receiptMessageId: string): string {
  return [
    'From: MAILER-DAEMON@mx.example.com',
    'To: fax@fax.localhost',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.com',
    '',
    'Final-Recipient: rfc822; alice@example.com',
    'Action: failed',
    'Status: 5.1.1',
    'Diagnostic-Code: smtp; 550 5.1.1 <alice@example.com>: Recipient address rejected',
    '',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Fax <fax@fax.localhost>',
    'To: alice@example.com',
    `Message-ID: ${receiptMessageId}`,
    '',
    '--b1--',
    '',
  ].join('\r\n');
}

describe('a bounce of a receipt (docs/behaviour.md §6)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon();
  });
  afterAll(async () => {
    await env.stop();
  });

  it('is accepted from the null sender, recorded against the job, and never faxed', async () => {
    const sent = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '5555550103@fax.localhost',
      subject: 'To an unallocated number',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    const jobId = /Queued (\S+) /.exec(sent.response)![1]!;
    const receipt = await waitFor(
      async () => (await env.daemon.store.listOutboxOfJob(jobId)).find((row) => row.status === 'sent'),
      15_000,
      'the failure receipt',
    );
    const faxesBefore = env.simulator.faxes().length;

    const bounce = await sendMail(env.smtpPort, {
      envelope: { from: '', to: 'fax@fax.localhost' },
      raw: bounceOf(`<receipt-failed-${jobId}@fax.localhost>`),
    });
    expect(bounce.response).toBe(`250 2.0.0 Bounce recorded against ${jobId}`);
    const row = (await env.daemon.store.listOutboxOfJob(jobId)).find((r) => r.id === receipt.id)!;
    expect(row.last_error).toBe('bounced: 5.1.1: 550 5.1.1 <alice@example.com>: Recipient address rejected');
    expect(env.simulator.faxes()).toHaveLength(faxesBefore);
    expect(await env.daemon.store.listJobs({})).toHaveLength(1);
  });

  it('answers a null-sender message that names no receipt of ours in plain words, and faxes nothing', async () => {
    const faxesBefore = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      envelope: { from: '', to: 'fax@fax.localhost' },
      raw: bounceOf('<someone-else@mx.example.com>'),
    });
    expect(result.response).toBe('250 2.0.0 Accepted; it names no fax receipt of this gateway');
    expect(env.simulator.faxes()).toHaveLength(faxesBefore);
  });

  it('refuses a message with a real sender to the receipts address (no relay through it)', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'mallory@example.com',
      to: 'fax@fax.localhost',
      text: 'hello',
    });
    expect(result.code).toBe(550);
    expect(result.response).toMatch(/^550 5\.7\.1 /);
  });
});
