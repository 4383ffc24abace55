import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HOUR } from '../../src/lib/units.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { startTestRelay, type TestRelay } from '../helpers/testRelay.js';

/** +15555550110 is the simulator's fax that never sends a final event (src/simulator/magicNumbers.ts). */
const SILENT_NUMBER = '+15555550110';

describe('a fax with no final event (docs/behaviour.md §4)', () => {
  let relay: TestRelay;
  let env: TestDaemon;
  let offset = 0;

  beforeAll(async () => {
    relay = await startTestRelay();
    env = await startTestDaemon({
      clock: { now: () => Date.now() + offset },
      yaml: `admin: [it@example.com]\nmail:\n  smtp_url: ${relay.url}\nretry:\n  final_event_timeout: 1s\n`,
    });
  });
  afterAll(async () => {
    await env.stop();
    await relay.close();
  });

  it('is polled, then after 24 hours ends with an "outcome unknown" receipt and a notice to the admin', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: `${SILENT_NUMBER.slice(1)}@fax.localhost`,
      subject: 'Into the void',
      attachments: [{ filename: 'void.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const jobId = /Queued (\S+) /.exec(result.response)![1]!;
    await waitFor(async () => (await env.daemon.store.getJob(jobId))?.status === 'placed', 10_000, 'placed');
    // Polled with GET /faxes/{id} after final_event_timeout, without giving up yet.
    await waitFor(
      () =>
        env.simulator.requests().some((r) => r.method === 'GET' && /\/faxes\/[0-9a-f-]{36}$/.test(r.path)),
      10_000,
      'a status poll',
    );
    expect((await env.daemon.store.getJob(jobId))!.status).toBe('placed');
    expect(relay.messages).toHaveLength(0);

    offset = 25 * HOUR;
    await waitFor(() => relay.messages.length >= 2, 15_000, 'the receipt and the admin notice');
    const job = await env.daemon.store.getJob(jobId);
    expect(job).toMatchObject({ status: 'failed', failure_reason: 'outcome_unknown' });
    const receipt = relay.messages.find((m) => m.rcptTo.includes('alice@example.com'))!;
    expect(receipt.parsed.subject).toMatch(new RegExp(`^Fax to \\${SILENT_NUMBER} failed: `));
    const notice = relay.messages.find((m) => m.rcptTo.includes('it@example.com'))!;
    expect(notice.parsed.subject).toBe(
      `Fax job ${jobId} to ${SILENT_NUMBER} needs attention: outcome unknown`,
    );
    expect(notice.parsed.text).toContain('never reported how it ended');
    expect(env.simulator.faxes().filter((fax) => fax.to === SILENT_NUMBER)).toHaveLength(1);
  });
});
