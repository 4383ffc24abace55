import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MB } from '../../src/lib/units.js';
import { peakRss, startHealthProbe } from '../helpers/healthProbe.js';
import { type InboundEnv, sha256, simKeys, startInboundEnv } from '../helpers/inboundEnv.js';
import { twoLayerObjectStreamPdf } from '../helpers/pdfFixtures.js';
import { signWebhook } from '../helpers/signWebhook.js';
import { waitFor } from '../helpers/testDaemon.js';

/*
 * A received fax whose PDF is a bomb, announced by a signed fax.received without page_count (as the missed-fax
 * poll records them), so the daemon must count the pages itself. The count runs in the document sandbox: the
 * fax is still mailed, byte for byte, with its page count unknown, and the daemon (in this process) keeps
 * answering /healthz and keeps its memory.
 */

/** A liveness bound, far above a normal answer and far below the old 20 s freeze. */
const SLOWEST_PROBE_MS = 1000;
/** This process (vitest and the daemon) runs at a few hundred MB; counting the bomb in it took 3.2 GB. */
const PROCESS_PEAK_RSS = 1024 * MB;

describe('a received fax whose PDF is a bomb', () => {
  let env: InboundEnv;
  let media: Server;
  let mediaUrl: string;
  let bomb: Buffer;

  beforeAll(async () => {
    env = await startInboundEnv({
      yaml: `inbound:\n  - number: "+15550001111"\n    deliver_to: [frontdesk@example.com]\nadmin: [it@example.com]\n`,
    });
    bomb = await twoLayerObjectStreamPdf();
    media = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': bomb.length });
      response.end(bomb);
    });
    await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
    mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/fax.pdf`;
  });
  afterAll(async () => {
    await new Promise((resolve) => media?.close(resolve));
    await env?.stop();
  });

  it('is mailed with its page count unknown, and the daemon stays responsive', async () => {
    // An ordinary received fax first, for a fax.received event of the exact shape the daemon expects.
    const model = await env.simulator.sendInbound({
      webhookUrl: env.webhookUrl,
      from: '+15557654321',
      to: '+15550001111',
      pages: 1,
    });
    await waitFor(() => mailFor(env, model.id), 10_000, 'the ordinary fax mailed');
    const event = env.simulator
      .faxes()
      .find((fax) => fax.id === model.id)!
      .events.find((e) => e.event_type === 'fax.received')!;
    const faxId = randomUUID();
    const { page_count: _omitted, ...payload } = event.payload as Record<string, unknown>;
    const body = JSON.stringify({
      data: { ...event, id: randomUUID(), payload: { ...payload, fax_id: faxId, media_url: mediaUrl } },
      meta: { attempt: 1, delivered_to: env.webhookUrl },
    });

    const probe = startHealthProbe(env.httpUrl);
    const answer = await fetch(env.webhookUrl, {
      method: 'POST',
      headers: signWebhook(body, simKeys.secretKey),
      body,
    });
    expect(answer.status).toBe(200);
    const mail = await waitFor(() => mailFor(env, faxId), 60_000, 'the bomb fax mailed');
    const health = await probe.stop();

    expect(mail.rcptTo).toEqual(['frontdesk@example.com']);
    // The PDF as received, and no picture of it: a fax whose pages could not be counted is not drawn either.
    expect(mail.parsed.attachments.map((part) => part.contentType)).toEqual(['application/pdf']);
    expect(sha256(mail.parsed.attachments[0]!.content)).toBe(sha256(bomb));
    expect(mail.parsed.text).toMatch(/unknown/);
    expect(health.failures).toEqual([]);
    expect(health.slowestMs).toBeLessThan(SLOWEST_PROBE_MS);
    expect(await peakRss('self')).toBeLessThan(PROCESS_PEAK_RSS);
  }, 90_000);
});

function mailFor(env: InboundEnv, faxId: string) {
  return env.relay.messages.find((mail) => mail.parsed.headers.get('x-faxbridge-fax') === faxId);
}
