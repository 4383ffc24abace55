import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import { deliveredEventBody } from '../helpers/outboundEvents.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeWebhookKeyPair, signWebhook } from '../helpers/signWebhook.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * After an uncertain POST /faxes the job is reconciled with GET /faxes before anything is sent again. Telnyx's
 * list answers are not always tidy (no meta.total_pages, an entry of an unexpected shape): whatever they look
 * like, a fax that exists must never be placed a second time. Telnyx is the simulator over HTTP, with webhooks
 * dropped so that only the reconciliation can find the fax.
 */
describe('reconciliation after an uncertain POST /faxes', () => {
  let env: TestDaemon;
  beforeEach(async () => {
    env = await startTestDaemon();
    env.simulator.webhookMode('drop');
  });
  afterEach(async () => {
    await env.stop();
  });

  const postsTo = (to: string) =>
    env.simulator
      .requests()
      .filter((r) => r.method === 'POST' && r.path === '/v2/faxes' && (r.body as { to?: string })?.to === to);
  const listsFor = (to: string) =>
    env.simulator
      .requests()
      .filter((r) => r.method === 'GET' && r.path === '/v2/faxes' && r.query['filter[to][eq]'] === to);

  async function sendOne(to: string): Promise<string> {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: `${to}@fax.localhost`,
      text: 'Fax',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    return /Queued (\S+)/.exec(result.response)![1]!;
  }

  async function delivered(jobId: string) {
    return waitFor(
      async () => {
        const row = await env.daemon.store.getJob(jobId);
        return row?.status === 'delivered' ? row : null;
      },
      40_000,
      'job delivered after reconciling',
    );
  }

  it('the fax is on page 2 and the list has no total_pages: found, exactly one fax', async () => {
    const to = '+15552100001';
    // 250 newer faxes to the same number fill page 1, so the attempt's fax is listed on page 2 only.
    env.simulator.seedFaxes({ to, count: 250, createdAt: Date.now() + 60_000 });
    env.simulator.injectResponses('POST /faxes', [{ afterCreate: true, status: 500 }]);
    const onlyTo = { 'filter[to][eq]': to };
    env.simulator.injectResponses('GET /faxes', [
      { whenQuery: onlyTo, omitTotalPages: true },
      { whenQuery: onlyTo, omitTotalPages: true },
    ]);
    const jobId = await sendOne(to);

    const job = await delivered(jobId);
    expect(job.attempt).toBe(1);
    expect(postsTo(to).map((r) => r.status)).toEqual([500]);
    const pages = listsFor(to).map((r) => [r.query['page[number]'], r.status, r.injected]);
    expect(pages.slice(0, 2)).toEqual([
      ['1', 200, true],
      ['2', 200, true],
    ]);
    const placed = env.simulator.faxes().filter((fax) => fax.to === to && fax.clientState !== null);
    expect(placed).toHaveLength(1);
  }, 60_000);

  it('the list shows the fax in an unexpected shape: asked again later, never placed twice', async () => {
    const to = '+15552100002';
    env.simulator.injectResponses('POST /faxes', [{ afterCreate: true, status: 500 }]);
    // The first reconciliation sees the attempt's fax with `from: null`, which is not a fax it can read.
    env.simulator.injectResponses('GET /faxes', [
      { whenQuery: { 'filter[to][eq]': to }, patchEntries: { match: { to }, set: { from: null } } },
    ]);
    const jobId = await sendOne(to);

    const job = await delivered(jobId);
    expect(job.attempt).toBe(1);
    expect(postsTo(to).map((r) => r.status)).toEqual([500]);
    const lists = listsFor(to);
    expect(lists[0]!.injected).toBe(true);
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(env.simulator.faxes().filter((fax) => fax.to === to)).toHaveLength(1);
  }, 60_000);
});

/*
 * A resend after reconciliation found no fax waits for a hand-off slot like any call (`telnyx.concurrency`), and the
 * wait can be long. If the attempt's own webhook comes meanwhile (Telnyx created the fax after all and says so),
 * the event's state stands and nothing is sent again (docs/behaviour.md §4).
 */
describe('a resend after reconciliation, settled by its webhook while it waited for a slot', () => {
  const SEED_BYTE = 44;
  const telnyxKey = makeWebhookKeyPair(SEED_BYTE);

  it('is not sent again', async () => {
    const simulator = await startSimulator({
      signingSeed: new Uint8Array(32).fill(SEED_BYTE),
      timing: { stepMs: 20 },
    });
    const lines: string[] = [];
    const env = await startTestDaemon({
      simulator,
      yaml: 'telnyx:\n  concurrency: 1\n  request_timeout: 60s\n',
      logDestination: { write: (line: string) => void lines.push(line) },
    });
    try {
      simulator.webhookMode('drop');
      // The first call: 500 and no fax (uncertain, reconciled later), answered after 5 s so that the other job's
      // transmitted PDF (built meanwhile in a niced background child, slow under a full test run's load) is ready and
      // its call is next for the only slot. That second call: Telnyx keeps it 15 s, holding the slot while the first
      // job comes back (2.5-5 s after its 500), finds no fax and waits to resend. Answered at once, the first call
      // could let the first job's resend come before the other job's call and take the hang itself.
      simulator.injectResponses('POST /faxes', [{ hangMs: 5_000 }, { hangMs: 15_000 }]);
      const numbers = ['+15552100101', '+15552100102'];
      const sent = await sendMail(env.smtpPort, {
        from: 'alice@example.com',
        to: numbers.map((number) => `${number}@fax.localhost`),
        text: 'Fax',
        attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
      });
      expect(sent.code).toBe(250);
      const posts = (to: string) =>
        simulator
          .requests()
          .filter(
            (r) => r.method === 'POST' && r.path === '/v2/faxes' && (r.body as { to?: string })?.to === to,
          );
      const uncertainTo = await waitFor(
        () => numbers.find((to) => posts(to).some((r) => r.status === 500)),
        20_000,
        'the first call answered 500',
      );
      const job = (await env.daemon.store.listJobs({})).find((row) => row.to_number === uncertainTo)!;
      await waitFor(
        () =>
          simulator
            .requests()
            .some(
              (r) =>
                r.method === 'GET' && r.path === '/v2/faxes' && r.query['filter[to][eq]'] === uncertainTo,
            ),
        20_000,
        'the uncertain attempt reconciled',
      );

      // Telnyx made the fax after all, and its final event arrives while the resend waits for the slot.
      const body = deliveredEventBody({
        jobId: job.id,
        attempt: 1,
        faxId: randomUUID(),
        to: uncertainTo,
        pages: 1,
        webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
      });
      const answer = await fetch(`${env.httpUrl}/webhooks/telnyx`, {
        method: 'POST',
        headers: signWebhook(body, telnyxKey.secretKey),
        body,
      });
      expect(answer.status).toBe(200);
      await waitFor(
        async () => (await env.daemon.store.getJob(job.id))?.status === 'delivered',
        10_000,
        'the job delivered by its event',
      );

      // The slot comes free when the other call ends; the waiting resend then finds its attempt settled.
      await waitFor(
        () =>
          lines.some((line) =>
            line.includes('an event settled the attempt while it waited to be sent again'),
          ),
        30_000,
        'the resend given up',
      );
      expect(posts(uncertainTo).map((r) => r.status)).toEqual([500]);
      expect((await env.daemon.store.getJob(job.id))?.status).toBe('delivered');
    } finally {
      await env.stop();
      await simulator.close();
    }
  }, 60_000);
});
