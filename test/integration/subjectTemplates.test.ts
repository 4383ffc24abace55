import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

describe('mail.subjects (configurable subject templates)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      yaml: [
        'mail:',
        '  subjects:',
        '    failed: "FAX FAILED {to} [{code}] {job} {nonsense}"',
        '    inbound: "Eingang von {from} an {to}: {pages}{partial}"',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    await env.stop();
  });

  const outboxMail = async (prefix: string) => {
    const dir = path.join(env.dataDir, 'outbox');
    const name = await waitFor(
      () => {
        try {
          return readdirSync(dir).find((file) => file.startsWith(prefix));
        } catch {
          return undefined;
        }
      },
      15_000,
      `${prefix} in the outbox`,
    );
    return simpleParser(readFileSync(path.join(dir, name)));
  };

  it('fills a failure receipt subject, leaving an unknown placeholder visible', async () => {
    const sent = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '5555550103@fax.localhost',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    const jobId = /Queued (\S+) /.exec(sent.response)![1]!;
    const mail = await outboxMail(`receipt-failed-${jobId}`);
    expect(mail.subject).toBe(`FAX FAILED +15555550103 [receiver_unallocated_number] ${jobId} {nonsense}`);
  });

  it('fills a received fax subject', async () => {
    const fax = await env.simulator.sendInbound({
      from: '+4930123456',
      to: '+15550001111',
      pages: 2,
      webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
    });
    const mail = await outboxMail(`fax-${fax.id}`);
    expect(mail.subject).toBe('Eingang von +4930123456 an +15550001111: 2 pages');
  });
});
