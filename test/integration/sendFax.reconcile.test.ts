import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
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
