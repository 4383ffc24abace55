import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DAY } from '../../src/lib/units.js';
import type { InboundOptions, SimFax } from '../../src/simulator/index.js';
import {
  type InboundEnv,
  pdfOf,
  sha256,
  simKeys,
  startDelayingProxy,
  startInboundEnv,
} from '../helpers/inboundEnv.js';
import { signWebhook } from '../helpers/signWebhook.js';
import { waitFor } from '../helpers/testDaemon.js';
import type { RelayedMail } from '../helpers/testRelay.js';

const CALLER = '+15557654321';

/** The relay's messages about one fax (faxbridge tags each with X-Faxbridge-Fax). */
function mailsOf(env: InboundEnv, faxId: string): RelayedMail[] {
  return env.relay.messages.filter((mail) => mail.parsed.headers.get('x-faxbridge-fax') === faxId);
}

async function oneMailOf(env: InboundEnv, faxId: string): Promise<RelayedMail> {
  const [mail] = await waitFor(
    () => (mailsOf(env, faxId).length > 0 ? mailsOf(env, faxId) : null),
    10_000,
    'mail',
  );
  return mail!;
}

/**
 * Waits until duplicates (webhook copies, a poll, the outbox) would have shown up before counting: every
 * webhook copy answered, every recorded event processed, every queued mail handed to the relay.
 */
async function settle(env: InboundEnv): Promise<void> {
  await env.simulator.waitForIdle();
  const { store } = env.daemon;
  await waitFor(
    async () =>
      (await store.listUnprocessedEvents(1)).length === 0 && (await store.countOutbox('pending')) === 0,
    10_000,
    'events processed and mail sent',
  );
}

/** The simulator has no Fax Application webhook of its own here: each fax names the daemon's. */
function receive(env: InboundEnv, options: InboundOptions): Promise<SimFax> {
  return env.simulator.sendInbound({ webhookUrl: env.webhookUrl, ...options });
}

function textOf(mail: RelayedMail): string {
  return mail.parsed.text ?? '';
}

describe('fax to email, routed numbers (attach, link, notice, catch-all)', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv({
      yaml: `inbound:
  - number: "+15550001111"
    deliver_to: [frontdesk@example.com, alice@example.com]
  - number: "+15550002222"
    deliver_to: [records@example.com]
    mode: link
  - number: "+15550003333"
    deliver_to: [clinic@example.com]
    mode: notice
  - number: "*"
    deliver_to: [catchall@example.com]
admin: [it@example.com]
`,
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('mails a routed fax to every routed address, the PDF attached byte for byte', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550001111', pages: 2 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo.sort()).toEqual(['alice@example.com', 'frontdesk@example.com']);
    expect(mail.parsed.subject).toBe(`Fax from ${CALLER} (2 pages)`);
    // The PDF, and above it in the HTML part a picture of its first page.
    expect(mail.parsed.attachments.map((part) => part.contentType).sort()).toEqual([
      'application/pdf',
      'image/png',
    ]);
    const pdf = mail.parsed.attachments.find((part) => part.contentType === 'application/pdf');
    expect(sha256(pdf!.content)).toBe(fax.media!.sha256);
    const picture = mail.parsed.attachments.find((part) => part.contentType === 'image/png');
    expect(picture!.content.subarray(1, 4).toString()).toBe('PNG');
    // mailparser turns cid: pictures into data: URLs; the HTML part shows the picture either way.
    expect(mail.parsed.html || '').toMatch(/<img src="(cid:|data:image\/png)/);
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    await settle(env);
    expect(mailsOf(env, fax.id)).toHaveLength(1);
    const row = await env.daemon.store.getInboundFax(fax.id);
    expect(row).toMatchObject({ status: 'mailed', pages: 2, from_number: CALLER, to_number: '+15550001111' });
  });

  it('flags a partial fax in the subject and the body', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550001111', pages: 1, partial: true });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.parsed.subject).toBe(`Fax from ${CALLER} (1 page) [partial]`);
    expect(textOf(mail)).toMatch(/partial/i);
  });

  it('sends a number without its own route to the "*" route', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15559990000', pages: 1 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo).toEqual(['catchall@example.com']);
    expect(sha256(pdfOf(mail.parsed).content)).toBe(fax.media!.sha256);
  });

  it('sends one email for a fax.received delivered twice, and for a copy under another event id', async () => {
    env.simulator.webhookMode('duplicate');
    let fax: SimFax;
    try {
      fax = await receive(env, { from: CALLER, to: '+15550001111', pages: 1 });
      await oneMailOf(env, fax.id);
      await env.simulator.waitForIdle();
    } finally {
      env.simulator.webhookMode('normal');
    }
    const received = env.simulator
      .deliveries()
      .filter((d) => d.faxId === fax.id && d.eventType === 'fax.received');
    expect(received.length).toBeGreaterThanOrEqual(2);
    // Telnyx may also resend an event under a new id: same fax id, so still the same fax.
    const event = env.simulator
      .faxes()
      .find((f) => f.id === fax.id)!
      .events.find((e) => e.event_type === 'fax.received')!;
    const body = JSON.stringify({
      data: { ...event, id: randomUUID() },
      meta: { attempt: 1, delivered_to: env.webhookUrl },
    });
    const answer = await fetch(env.webhookUrl, {
      method: 'POST',
      headers: signWebhook(body, simKeys.secretKey),
      body,
    });
    expect(answer.status).toBe(200);
    await settle(env);
    expect(mailsOf(env, fax.id)).toHaveLength(1);
  });

  it('refreshes an expired media URL and still delivers the fax', async () => {
    // The daemon hears of the fax 1.2 s after it arrived; its media link lived 500 ms.
    const proxy = await startDelayingProxy(env.webhookUrl, 1200);
    try {
      const fax = await receive(env, {
        from: CALLER,
        to: '+15550001111',
        pages: 3,
        mediaTtlMs: 500,
        webhookUrl: proxy.url,
      });
      const mail = await oneMailOf(env, fax.id);
      expect(sha256(pdfOf(mail.parsed).content)).toBe(fax.media!.sha256);
      const paths = env.simulator.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
      expect(paths).toContain(`POST /v2/faxes/${fax.id}/actions/refresh 200`);
      expect(paths).toContain(`GET /v2/faxes/${fax.id} 200`);
    } finally {
      await proxy.close();
    }
  });

  it('link mode: no attachment, a signed link that works until it expires, then 410', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550002222', pages: 2 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo).toEqual(['records@example.com']);
    // No document attached: only the picture of its first page, shown inline.
    expect(mail.parsed.attachments.map((part) => part.contentType)).toEqual(['image/png']);
    const link = /https?:\/\/\S+\/documents\/\S+/.exec(textOf(mail))?.[0];
    expect(link).toBeDefined();
    const ok = await fetch(link!);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(sha256(new Uint8Array(await ok.arrayBuffer()))).toBe(fax.media!.sha256);
    // An altered link is refused outright.
    expect((await fetch(link!.replace(/sig=[^&\s]+/, 'sig=forged'))).status).toBe(403);
    // retention.days defaults to 30: a day later than that, the link has expired.
    env.clock.offsetMs = 31 * DAY;
    try {
      expect((await fetch(link!)).status).toBe(410);
    } finally {
      env.clock.offsetMs = 0;
    }
  });

  it('notice mode: no attachment and no link', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550003333', pages: 1 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo).toEqual(['clinic@example.com']);
    expect(mail.parsed.subject).toBe(`Fax from ${CALLER} (1 page)`);
    expect(mail.parsed.attachments).toHaveLength(0);
    expect(textOf(mail)).not.toMatch(/\/documents\//);
    expect(textOf(mail)).toMatch(/notice only/);
  });

  it('tells the routed addresses that an incoming fax failed, and why', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550001111', failWith: 'sender_call_dropped' });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo.sort()).toEqual(['alice@example.com', 'frontdesk@example.com']);
    expect(mail.parsed.subject).toMatch(new RegExp(`^Fax from \\${CALLER} to \\+15550001111 failed`));
    expect(textOf(mail)).toContain('sender_call_dropped');
    expect(mail.parsed.attachments).toHaveLength(0);
    await settle(env);
    expect(mailsOf(env, fax.id)).toHaveLength(1);
    expect(await env.daemon.store.getInboundFax(fax.id)).toMatchObject({ status: 'failed' });
  });

  it('keeps retrying a download that fails even after refresh, tells the admin once, then delivers', async () => {
    // The link has expired when the daemon hears of the fax, and the first three refreshes fail.
    const proxy = await startDelayingProxy(env.webhookUrl, 1200);
    try {
      const fax = await receive(env, {
        from: CALLER,
        to: '+15550001111',
        mediaTtlMs: 500,
        webhookUrl: proxy.url,
      });
      const refresh = `POST /faxes/${fax.id}/actions/refresh`;
      env.simulator.injectResponses(refresh, [{ status: 500 }, { status: 500 }, { status: 500 }]);
      for (let attempt = 1; attempt <= 3; attempt++) {
        await waitFor(
          async () => {
            const row = await env.daemon.store.getInboundFax(fax.id);
            return row?.attempts === attempt && row.lease_owner === null && row.status === 'received';
          },
          10_000,
          `failed attempt ${attempt}`,
        );
        // Backoff is 15 s to 2 min here: move the daemon's clock past it instead of waiting.
        env.clock.offsetMs += 3 * 60_000;
      }
      const mails = await waitFor(
        () => (mailsOf(env, fax.id).length >= 2 ? mailsOf(env, fax.id) : null),
        10_000,
        'mails',
      );
      const trouble = mails.find((mail) => mail.parsed.subject?.includes('could not be downloaded'));
      expect(trouble?.rcptTo).toEqual(['it@example.com']);
      expect(trouble?.parsed.attachments).toHaveLength(0);
      const delivered = mails.find((mail) => mail.rcptTo.includes('frontdesk@example.com'));
      expect(sha256(pdfOf(delivered!.parsed).content)).toBe(fax.media!.sha256);
      await settle(env);
      expect(mailsOf(env, fax.id)).toHaveLength(2);
      expect(await env.daemon.store.getInboundFax(fax.id)).toMatchObject({ status: 'mailed', attempts: 4 });
    } finally {
      env.clock.offsetMs = 0;
      await proxy.close();
    }
  });

  it('says "unknown caller" when the caller is not E.164', async () => {
    const fax = await receive(env, { from: 'anonymous', to: '+15550001111', pages: 1 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.parsed.subject).toBe('Fax from unknown caller (1 page)');
    expect(textOf(mail)).toContain('anonymous');
  });
});

describe('fax to email, unrouted numbers and missed webhooks', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv({
      yaml: `inbound:
  - number: "+15550001111"
    deliver_to: [frontdesk@example.com]
admin: [it@example.com, boss@example.com]
`,
      missedFaxPollMs: 300,
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('sends a fax for a number with no route and no "*" to the admin, attached, and counts it', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15558887777', pages: 1 });
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo.sort()).toEqual(['boss@example.com', 'it@example.com']);
    expect(sha256(pdfOf(mail.parsed).content)).toBe(fax.media!.sha256);
    expect(textOf(mail)).toMatch(/No inbound route matches \+15558887777/);
    const metrics = await (await fetch(`${env.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^faxbridge_inbound_unrouted_total 1$/m);
  });

  it('finds a fax whose webhooks were all lost by polling GET /faxes', async () => {
    env.simulator.webhookMode('drop');
    try {
      const fax = await receive(env, { from: CALLER, to: '+15550001111', pages: 2 });
      const mail = await oneMailOf(env, fax.id);
      expect(mail.rcptTo).toEqual(['frontdesk@example.com']);
      expect(mail.parsed.subject).toBe(`Fax from ${CALLER} (2 pages)`);
      expect(sha256(pdfOf(mail.parsed).content)).toBe(fax.media!.sha256);
      expect(env.simulator.deliveries().filter((d) => d.faxId === fax.id && d.status !== -1)).toHaveLength(0);
      const listed = env.simulator
        .requests()
        .some((r) => r.path === '/v2/faxes' && r.query['filter[direction][eq]'] === 'inbound');
      expect(listed).toBe(true);
      await settle(env);
      expect(mailsOf(env, fax.id)).toHaveLength(1);
    } finally {
      env.simulator.webhookMode('normal');
    }
  });
});

describe('fax to email in sandbox with no routes and a small attachment limit', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv({ yaml: 'mail:\n  max_attachment_size: 1KB\n' });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('goes to inbox@<first fax domain>, linked instead of attached, saying why', async () => {
    const fax = await receive(env, { from: CALLER, to: '+15550004444', pages: 2 });
    expect(fax.media!.bytes).toBeGreaterThan(1024);
    const mail = await oneMailOf(env, fax.id);
    expect(mail.rcptTo).toEqual(['inbox@fax.localhost']);
    expect(mail.parsed.attachments.map((part) => part.contentType)).toEqual(['image/png']);
    expect(textOf(mail)).toMatch(/larger than the 1 KB attachment limit/);
    const link = /https?:\/\/\S+\/documents\/\S+/.exec(textOf(mail))?.[0];
    const answer = await fetch(link!);
    expect(answer.status).toBe(200);
    expect(sha256(new Uint8Array(await answer.arrayBuffer()))).toBe(fax.media!.sha256);
  });
});
