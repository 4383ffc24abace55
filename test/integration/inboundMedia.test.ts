import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type InboundEnv, pdfOf, sha256, simKeys, startInboundEnv } from '../helpers/inboundEnv.js';
import { signWebhook } from '../helpers/signWebhook.js';
import { waitFor } from '../helpers/testDaemon.js';
import type { RelayedMail } from '../helpers/testRelay.js';

/* Received faxes whose media server misbehaves: hangs, trickles, serves no PDF, or is not where media belongs. */

const CALLER = '+15557654321';
const ROUTES = `inbound:
  - number: "+15550001111"
    deliver_to: [frontdesk@example.com]
admin: [it@example.com]
`;
/** Outside sandbox a config needs senders even when only receiving. */
const SENDERS = `senders:
  - match: alice@example.com
    from_number: "+15550001111"
`;

interface MediaServer {
  url: string;
  /** Requests received so far, by path. */
  hits: string[];
  /** Requests still waiting for an answer (the hanging and trickling ones). */
  open: Set<ServerResponse>;
  close(): Promise<void>;
}

/** `/hang` never answers, `/trickle` sends a byte every 100 ms for ever, `/text` answers 200 with no PDF. */
async function startMediaServer(): Promise<MediaServer> {
  const hits: string[] = [];
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push(req.url ?? '');
    if (req.url === '/text') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end('# HELP faxbridge_jobs_accepted_total Jobs accepted\nfaxbridge_jobs_accepted_total 7\n');
      return;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    if (req.url === '/trickle') {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.write('%PDF-1.4\n');
      const timer = setInterval(() => res.write(' '), 100);
      timers.add(timer);
      res.on('close', () => clearInterval(timer));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A `fax.received` signed with the simulator's key, as Telnyx would send it, naming any media URL. */
async function receiveSigned(env: InboundEnv, mediaUrl: string): Promise<string> {
  const faxId = randomUUID();
  const body = JSON.stringify({
    data: {
      record_type: 'event',
      id: randomUUID(),
      event_type: 'fax.received',
      occurred_at: new Date().toISOString(),
      payload: {
        fax_id: faxId,
        direction: 'inbound',
        from: CALLER,
        to: '+15550001111',
        page_count: 1,
        media_url: mediaUrl,
        status: 'received',
      },
    },
    meta: { attempt: 1, delivered_to: env.webhookUrl },
  });
  const answer = await fetch(env.webhookUrl, {
    method: 'POST',
    headers: signWebhook(body, simKeys.secretKey),
    body,
  });
  expect(answer.status).toBe(200);
  return faxId;
}

function mailsOf(env: InboundEnv, faxId: string): RelayedMail[] {
  return env.relay.messages.filter((mail) => mail.parsed.headers.get('x-faxbridge-fax') === faxId);
}

/** Lets three failed download rounds happen (moving the clock past each backoff) and returns the admin's mail. */
async function adminNoticeAfterThreeRounds(env: InboundEnv, faxId: string): Promise<RelayedMail> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    await waitFor(
      async () => {
        const row = await env.daemon.store.getInboundFax(faxId);
        return row?.attempts === attempt && row.lease_owner === null && row.status === 'received';
      },
      10_000,
      `failed attempt ${attempt}`,
    );
    env.clock.offsetMs += 3 * 60_000;
  }
  const [notice] = await waitFor(
    () => (mailsOf(env, faxId).length > 0 ? mailsOf(env, faxId) : null),
    10_000,
    'admin notice',
  );
  return notice!;
}

describe('inbound downloads run in independent slots', () => {
  let env: InboundEnv;
  let media: MediaServer;
  beforeAll(async () => {
    media = await startMediaServer();
    env = await startInboundEnv({ yaml: ROUTES });
  });
  afterAll(async () => {
    await env?.stop();
    await media?.close();
  });

  it('mails a fax received while another fax download hangs, without waiting for it', async () => {
    const stuck = await receiveSigned(env, `${media.url}/hang`);
    await waitFor(() => media.open.size === 1, 10_000, 'the hanging download to start');

    const fax = await env.simulator.sendInbound({
      webhookUrl: env.webhookUrl,
      from: CALLER,
      to: '+15550001111',
      pages: 1,
    });
    const [mail] = await waitFor(
      () => (mailsOf(env, fax.id).length > 0 ? mailsOf(env, fax.id) : null),
      10_000,
      'the second fax mailed',
    );
    expect(sha256(pdfOf(mail!.parsed).content)).toBe(fax.media!.sha256);
    // The first download is still hanging: the second did not wait for it.
    expect(media.open.size).toBe(1);
    expect((await env.daemon.store.getInboundFax(stuck))?.status).toBe('received');
  });

  it('tells the admin about media that is not a PDF, and never mails it as one', async () => {
    const faxId = await receiveSigned(env, `${media.url}/text`);
    const notice = await adminNoticeAfterThreeRounds(env, faxId);
    expect(notice.rcptTo).toEqual(['it@example.com']);
    expect(notice.parsed.subject).toMatch(/could not be downloaded/);
    expect(notice.parsed.text).toMatch(/not a PDF/);
    expect(notice.parsed.attachments).toHaveLength(0);
    expect(mailsOf(env, faxId).filter((mail) => mail.rcptTo.includes('frontdesk@example.com'))).toEqual([]);
    expect(await env.daemon.store.getInboundFax(faxId)).toMatchObject({
      status: 'received',
      document_id: null,
    });
  });
});

describe('an inbound download has an overall deadline', () => {
  let env: InboundEnv;
  let media: MediaServer;
  beforeAll(async () => {
    media = await startMediaServer();
    env = await startInboundEnv({ yaml: ROUTES, fetchDeadlineMs: 1500 });
  });
  afterAll(async () => {
    await env?.stop();
    await media?.close();
  });

  it('gives up a download that trickles a byte now and then, and retries it later', async () => {
    const faxId = await receiveSigned(env, `${media.url}/trickle`);
    const row = await waitFor(
      async () => {
        const current = await env.daemon.store.getInboundFax(faxId);
        return current?.attempts === 1 && current.lease_owner === null ? current : null;
      },
      15_000,
      'the first attempt to end',
    );
    expect(row).toMatchObject({ status: 'received' });
    expect(row.last_error).toMatch(/not fetched within 1\.5 s/);
    expect(media.open.size).toBe(0);
  });
});

describe('outside sandbox, media links must lead to public addresses', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv({ yaml: ROUTES + SENDERS, env: productionEnv() });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('refuses a loopback media_url (the simulator on 127.0.0.1) and tells the admin', async () => {
    expect(env.daemon.config.sandbox).toBe(false);
    const fax = await env.simulator.sendInbound({
      webhookUrl: env.webhookUrl,
      from: CALLER,
      to: '+15550001111',
      pages: 1,
    });
    const notice = await adminNoticeAfterThreeRounds(env, fax.id);
    expect(notice.rcptTo).toEqual(['it@example.com']);
    expect(notice.parsed.text).toMatch(/127\.0\.0\.1, a private, loopback or link-local address/);
    // It asked Telnyx for a fresh link each round, but never fetched the media.
    const paths = env.simulator.requests().map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain(`POST /v2/faxes/${fax.id}/actions/refresh`);
    expect(paths.filter((p) => p.startsWith('GET /media') || p.includes('/media/'))).toEqual([]);
    expect(mailsOf(env, fax.id)).toHaveLength(1);
  });

  it('checks the address a name resolves to: a link to localhost never reaches the server', async () => {
    // The signature's timestamp is checked against the daemon's clock, moved forward by the test before.
    env.clock.offsetMs = 0;
    const media = await startMediaServer();
    try {
      const faxId = await receiveSigned(env, `${media.url.replace('127.0.0.1', 'localhost')}/text`);
      const row = await waitFor(
        async () => {
          const current = await env.daemon.store.getInboundFax(faxId);
          return current?.attempts === 1 && current.lease_owner === null ? current : null;
        },
        10_000,
        'the first attempt to end',
      );
      expect(row.last_error).toMatch(
        /points to (127\.0\.0\.1|::1), a private, loopback or link-local address/,
      );
      expect(media.hits).toEqual([]);
    } finally {
      await media.close();
    }
  });
});

describe('outside sandbox, telnyx.inbound_media_networks allows a private media host', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv({
      yaml: `${ROUTES}${SENDERS}telnyx:\n  inbound_media_networks: [127.0.0.0/8]\n`,
      env: productionEnv(),
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('fetches from 127.0.0.1 over http and mails the fax', async () => {
    const fax = await env.simulator.sendInbound({
      webhookUrl: env.webhookUrl,
      from: CALLER,
      to: '+15550001111',
      pages: 2,
    });
    const [mail] = await waitFor(
      () => (mailsOf(env, fax.id).length > 0 ? mailsOf(env, fax.id) : null),
      10_000,
      'the fax mailed',
    );
    expect(mail!.rcptTo).toEqual(['frontdesk@example.com']);
    expect(sha256(pdfOf(mail!.parsed).content)).toBe(fax.media!.sha256);
  });
});

/** Production mode (an API key) against the simulator; the public URL only matters for outbound faxes here. */
function productionEnv(): Record<string, string> {
  return {
    TELNYX_API_KEY: 'test-api-key',
    TELNYX_PUBLIC_KEY: simKeys.publicKeyBase64,
    TELNYX_CONNECTION_ID: '1',
    FAXBRIDGE_HTTP__PUBLIC_URL: 'https://fax.example.com',
  };
}
