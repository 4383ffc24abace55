import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf, readPageLabels } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('email to fax, end to end', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    // Without a header line or a cover page the stored document is what is faxed, byte for byte.
    env = await startTestDaemon({ yaml: 'header:\n  enabled: false\n' });
  });
  afterAll(async () => {
    await env.stop();
  });

  it('sends one fax per recipient, whatever the number format, with the exact stored PDF', async () => {
    const pdf = await makePdf(3, { label: 'three' });
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: ['+15551234567@fax.localhost', '15552345678@fax.localhost', '555-345-6789@fax.localhost'],
      subject: 'Contract',
      text: 'Please fax this',
      attachments: [{ filename: 'contract.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    expect(result.response).toMatch(
      /^250 2\.0\.0 Queued [A-Za-z0-9_-]{8,40} \+15551234567, [A-Za-z0-9_-]{8,40} \+15552345678, [A-Za-z0-9_-]{8,40} \+15553456789$/,
    );
    const faxes = await waitFor(
      () => {
        const sent = env.simulator.faxes().slice(before);
        return sent.length === 3 && sent.every((fax) => fax.media?.sha256) ? sent : null;
      },
      10_000,
      'three faxes fetched',
    );
    expect(faxes.map((fax) => fax.to).sort()).toEqual(['+15551234567', '+15552345678', '+15553456789']);
    for (const fax of faxes) {
      expect(fax.from).toBe('+15550000000');
      expect(fax.media?.sha256).toBe(sha256(pdf));
      expect(fax.documentPages).toBe(3);
      // The media URL itself serves the stored bytes, byte for byte.
      const response = await fetch(fax.mediaUrl!);
      expect(response.status).toBe(200);
      const body = new Uint8Array(await response.arrayBuffer());
      expect(sha256(body)).toBe(sha256(pdf));
    }
  });

  it('merges two PDFs (one declared octet-stream) in order and ignores an inline logo', async () => {
    const first = await makePdf(2, { label: 'first' });
    const second = await makePdf(1, { label: 'second' });
    const before = env.simulator.faxes().length;
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15554567890@fax.localhost',
      subject: 'Two documents',
      html: '<p>See attached <img src="cid:logo@x"></p>',
      attachments: [
        {
          filename: 'logo.png',
          cid: 'logo@x',
          contentType: 'image/png',
          content: Buffer.from(
            'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
            'base64',
          ),
        },
        { filename: 'first.pdf', content: first, contentType: 'application/pdf' },
        { filename: 'second.bin', content: second, contentType: 'application/octet-stream' },
      ],
    });
    expect(result.code).toBe(250);
    const fax = await waitFor(
      () =>
        env.simulator
          .faxes()
          .slice(before)
          .find((f) => f.documentPages),
      10_000,
      'fax fetched',
    );
    const response = await fetch(fax.mediaUrl!);
    const labels = await readPageLabels(new Uint8Array(await response.arrayBuffer()));
    expect(labels).toEqual(['first:1', 'first:2', 'second:1']);
  });
});
