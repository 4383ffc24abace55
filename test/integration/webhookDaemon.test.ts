import { randomBytes, randomUUID } from 'node:crypto';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import type { AttemptRow, JobRow } from '../../src/store/jobStore.js';
import { deliveredEventBody, placeFaxWithoutEvents } from '../helpers/outboundEvents.js';
import {
  makeWebhookKeyPair,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../helpers/signWebhook.js';
import { startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { startTestRelay, type TestRelay } from '../helpers/testRelay.js';

/**
 * The webhook endpoint of the whole daemon (docs/behaviour.md §5): the simulator signs with a known seed so
 * the test can sign as Telnyx too, and every refused request must leave the database exactly as it was.
 */
const SEED_BYTE = 41;
const telnyxKey = makeWebhookKeyPair(SEED_BYTE);
const otherKey = makeWebhookKeyPair(SEED_BYTE + 1);
const TO = '+15551230101';

describe('POST /webhooks/telnyx on the running daemon', () => {
  let simulator: Simulator;
  let relay: TestRelay;
  let env: TestDaemon;
  let db: Database.Database;
  let job: JobRow;
  let attempts: AttemptRow[];
  let faxId: string;

  beforeAll(async () => {
    simulator = await startSimulator({
      signingSeed: new Uint8Array(32).fill(SEED_BYTE),
      timing: { stepMs: 20 },
    });
    relay = await startTestRelay();
    env = await startTestDaemon({ simulator, yaml: `mail:\n  smtp_url: ${relay.url}\n` });
    db = new Database(env.daemon.config.database.url.slice('sqlite:'.length), { readonly: true });

    // A real placed fax whose own events are dropped: the job waits for events only this test sends.
    ({ job, attempts, faxId } = await placeFaxWithoutEvents(env, simulator, TO, 2));
    expect(faxId).toBe(simulator.faxes().find((fax) => fax.to === TO)!.id);
  });

  afterAll(async () => {
    db?.close();
    await env?.stop();
    await simulator?.close();
    await relay?.close();
  });

  const eventCount = () => (db.prepare('SELECT count(*) AS n FROM webhook_events').get() as { n: number }).n;
  const nowSec = () => Math.floor(Date.now() / 1000);

  const deliveredEvent = (id?: string): string =>
    deliveredEventBody({
      jobId: job.id,
      attempt: 1,
      faxId,
      to: TO,
      pages: 2,
      webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
      id,
    });

  const post = (body: string | Buffer, headers: Record<string, string>, path = '/webhooks/telnyx') =>
    fetch(`${env.httpUrl}${path}`, { method: 'POST', headers, body });

  const withoutHeader = (headers: Record<string, string>, ...names: string[]) =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));

  interface BadRequest {
    name: string;
    status: number;
    request: () => { body: string | Buffer; headers: Record<string, string>; path?: string };
  }

  const badRequests: BadRequest[] = [
    {
      name: 'forged signature (random bytes)',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        return {
          body,
          headers: {
            ...signWebhook(body, telnyxKey.secretKey),
            [SIGNATURE_HEADER]: randomBytes(64).toString('base64'),
          },
        };
      },
    },
    {
      name: 'valid signature over a different body',
      status: 401,
      request: () => ({
        body: deliveredEvent(),
        headers: signWebhook(deliveredEvent(), telnyxKey.secretKey),
      }),
    },
    {
      name: 'signature by another key',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        return { body, headers: signWebhook(body, otherKey.secretKey) };
      },
    },
    {
      name: 'timestamp 301 s old',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        return { body, headers: signWebhook(body, telnyxKey.secretKey, nowSec() - 301) };
      },
    },
    {
      name: 'timestamp 310 s ahead',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        // Well past 300 s: every second the request spends in flight brings a future timestamp closer.
        return { body, headers: signWebhook(body, telnyxKey.secretKey, nowSec() + 310) };
      },
    },
    {
      name: 'missing signature header',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        return { body, headers: withoutHeader(signWebhook(body, telnyxKey.secretKey), SIGNATURE_HEADER) };
      },
    },
    {
      name: 'missing timestamp header',
      status: 401,
      request: () => {
        const body = deliveredEvent();
        return { body, headers: withoutHeader(signWebhook(body, telnyxKey.secretKey), TIMESTAMP_HEADER) };
      },
    },
    {
      name: 'no Telnyx headers at all',
      status: 401,
      request: () => ({ body: deliveredEvent(), headers: { 'content-type': 'application/json' } }),
    },
    {
      name: 'malformed JSON (validly signed)',
      status: 400,
      request: () => {
        const body = `${deliveredEvent().slice(0, -10)}`;
        return { body, headers: signWebhook(body, telnyxKey.secretKey) };
      },
    },
    {
      name: 'JSON without data.id (validly signed)',
      status: 400,
      request: () => {
        const body = JSON.stringify({ data: { event_type: 'fax.delivered', payload: { fax_id: faxId } } });
        return { body, headers: signWebhook(body, telnyxKey.secretKey) };
      },
    },
    {
      name: 'JSON without data.event_type (validly signed)',
      status: 400,
      request: () => {
        const body = JSON.stringify({ data: { id: randomUUID(), payload: { fax_id: faxId } } });
        return { body, headers: signWebhook(body, telnyxKey.secretKey) };
      },
    },
    {
      name: 'an event nested 5,000 levels deep (validly signed)',
      status: 400,
      request: () => {
        const event = JSON.parse(deliveredEvent()) as { data: { payload: Record<string, unknown> } };
        const body = JSON.stringify(event).replace(
          '"payload":{',
          `"payload":{"extra":${'['.repeat(5000)}${']'.repeat(5000)},`,
        );
        return { body, headers: signWebhook(body, telnyxKey.secretKey) };
      },
    },
    {
      name: 'the webhook path in other letter case (validly signed)',
      status: 404,
      request: () => {
        const body = deliveredEvent();
        return { body, headers: signWebhook(body, telnyxKey.secretKey), path: '/Webhooks/Telnyx' };
      },
    },
    {
      name: 'body over 1 MB (validly signed)',
      status: 413,
      request: () => {
        const event = JSON.parse(deliveredEvent()) as { meta: Record<string, unknown> };
        event.meta.padding = 'x'.repeat(1024 * 1024);
        const body = JSON.stringify(event);
        return { body, headers: signWebhook(body, telnyxKey.secretKey) };
      },
    },
  ];

  it.each(badRequests)('$name → $status with a reason, and nothing changes', async ({ status, request }) => {
    const { body, headers, path } = request();
    const response = await post(body, headers, path);
    expect(response.status).toBe(status);
    const answer = (await response.json()) as { error?: string };
    expect(answer.error).toMatch(/\w+/);

    // An event is recorded before its answer is sent, so a refused one has left no row by now, and with no
    // row there is nothing for the daemon to act on later.
    expect(eventCount()).toBe(0);
    expect(await env.daemon.store.getJob(job.id)).toEqual(job);
    expect(await env.daemon.store.listAttempts(job.id)).toEqual(attempts);
    expect(relay.messages).toHaveLength(0);
  });

  it('serves the fax document with nosniff, and only under its exact lower-case path', async () => {
    const mediaUrl = new URL(simulator.faxes().find((fax) => fax.to === TO)!.mediaUrl!);
    // The link may have expired since the fax was placed; either answer must carry the header.
    const served = await fetch(mediaUrl);
    expect([200, 410]).toContain(served.status);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    await served.arrayBuffer();
    const shouted = new URL(mediaUrl);
    shouted.pathname = shouted.pathname.replace('/media/', '/MEDIA/');
    const refused = await fetch(shouted);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({ error: 'not_found' });
    expect((await fetch(`${env.httpUrl}/HEALTHZ`)).status).toBe(404);
  });

  it('the same event, validly signed 298 s ago, is recorded and acted on once; its duplicates are no-ops', async () => {
    const body = deliveredEvent();
    const headers = signWebhook(body, telnyxKey.secretKey, nowSec() - 298);
    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ result: 'recorded' });
    // Replayed at once (before the window closes): a duplicate, answered 200 so Telnyx stops retrying.
    const again = await post(body, headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ result: 'duplicate' });

    const done = await waitFor(async () => {
      const row = await env.daemon.store.getJob(job.id);
      return row?.status === 'delivered' ? row : null;
    });
    expect(done.pages_sent).toBe(2);
    expect(done.duration_secs).toBe(31);
    await waitFor(() => relay.messages.length === 1, 10_000, 'delivered receipt');

    // Telnyx's own retry carries a fresh signature: still the same event id, still a duplicate.
    const retried = await post(body, signWebhook(body, telnyxKey.secretKey));
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ result: 'duplicate' });

    // Every recorded event processed and no mail pending: a second receipt would be in the relay by now.
    await waitFor(
      async () =>
        (await env.daemon.store.listUnprocessedEvents(1)).length === 0 &&
        (await env.daemon.store.countOutbox('pending')) === 0,
      10_000,
      'events processed and mail sent',
    );
    expect(eventCount()).toBe(1);
    expect(relay.messages).toHaveLength(1);
    expect(relay.messages[0]!.parsed.subject).toBe(`Fax to ${TO} delivered (2 pages)`);
  });

  it('an unknown fax and an unknown event type are answered 200 and recorded, changing no job', async () => {
    const before = await env.daemon.store.getJob(job.id);
    const unknownFax = JSON.stringify({
      data: {
        record_type: 'event',
        id: randomUUID(),
        event_type: 'fax.failed',
        payload: {
          fax_id: randomUUID(),
          status: 'failed',
          failure_reason: 'user_busy',
          direction: 'outbound',
        },
      },
    });
    const unknownType = JSON.stringify({
      data: {
        record_type: 'event',
        id: randomUUID(),
        event_type: 'fax.something.new',
        payload: { fax_id: faxId },
      },
    });
    const ids: string[] = [];
    for (const body of [unknownFax, unknownType]) {
      const response = await post(body, signWebhook(body, telnyxKey.secretKey));
      expect(response.status).toBe(200);
      ids.push((JSON.parse(body) as { data: { id: string } }).data.id);
    }
    const outcomeOf = (id: string) =>
      (db.prepare('SELECT outcome FROM webhook_events WHERE id = ?').get(id) as { outcome: string | null })
        ?.outcome ?? null;
    await waitFor(() => ids.every(outcomeOf), 5_000, 'both events processed');
    expect(ids.map(outcomeOf)).toEqual(['unknown_fax', 'ignored']);
    expect(await env.daemon.store.getJob(job.id)).toEqual(before);
  });
});
