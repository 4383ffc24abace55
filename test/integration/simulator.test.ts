import { PDFDocument } from 'pdf-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import {
  apiCall,
  type FileServer,
  sha256,
  startFileServer,
  startWebhookReceiver,
  verifyBothWays,
  type WebhookReceiver,
} from '../helpers/simulatorClient.js';

const API_KEY = 'KEY-test-123';
const CONNECTION_ID = '1293384261075731499';
const FROM = '+13125790015';
const TO = '+13127367276';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLIENT_STATE = Buffer.from('job-1:1').toString('base64');

async function makePdf(pages: number): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  for (let index = 0; index < pages; index++) document.addPage([612, 792]);
  return document.save();
}

let sim: Simulator;
let hooks: WebhookReceiver;
let files: FileServer;
let clockOffsetMs = 0;

async function start(options: SimulatorOptions = {}): Promise<void> {
  await sim?.close();
  sim = await startSimulator({
    apiKey: API_KEY,
    connectionId: CONNECTION_ID,
    timing: { stepMs: 5, webhookRetryDelaysMs: [20, 40] },
    clock: () => Date.now() + clockOffsetMs,
    ...options,
  });
}

function sendBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connection_id: CONNECTION_ID,
    from: FROM,
    to: TO,
    media_url: `${files.origin}/doc.pdf`,
    client_state: CLIENT_STATE,
    webhook_url: hooks.url,
    ...overrides,
  };
}

const post = (body: unknown, apiKey = API_KEY) => apiCall(`${sim.url}/faxes`, { body, apiKey });
const eventTypes = () => hooks.received.map((hook) => hook.json.data.event_type);

beforeEach(async () => {
  clockOffsetMs = 0;
  hooks = await startWebhookReceiver();
  files = await startFileServer();
  files.routes.set('/doc.pdf', { body: await makePdf(3) });
  await start();
});

afterEach(async () => {
  await sim.close();
  await hooks.close();
  await files.close();
});

describe('POST /v2/faxes', () => {
  it('answers 202 with a queued Fax and keeps the exact request', async () => {
    const body = sendBody({ quality: 'high', some_future_field: 1 });
    const { status, json } = await post(body);
    expect(status).toBe(202);
    expect(json.data).toMatchObject({
      record_type: 'fax',
      connection_id: CONNECTION_ID,
      direction: 'outbound',
      from: FROM,
      to: TO,
      media_url: body.media_url,
      status: 'queued',
      client_state: CLIENT_STATE,
      webhook_url: hooks.url,
      quality: 'high',
    });
    expect(json.data.id).toMatch(UUID);
    expect(new Date(json.data.created_at).toISOString()).toBe(json.data.created_at);
    const [fax] = sim.faxes();
    expect(fax?.request).toEqual(body);
    expect(fax?.rawRequest).toBe(JSON.stringify(body));
    expect(sim.requests()).toMatchObject([{ method: 'POST', path: '/v2/faxes', status: 202, body }]);
  });

  it.each([
    ['missing to', { to: undefined }, '10004', '/to'],
    ['from not E.164', { from: '3125790015' }, '10016', '/from'],
    ['to not E.164', { to: '+0123' }, '10016', '/to'],
    ['media_url not http', { media_url: 'ftp://files.example/doc.pdf' }, '10003', '/media_url'],
    ['media_url too long', { media_url: `https://x.example/${'a'.repeat(2000)}` }, '10003', '/media_url'],
    ['no media source', { media_url: undefined }, '10004', '/media_url'],
    ['two media sources', { media_name: 'doc' }, '422', '/media_name'],
    ['client_state not Base64', { client_state: 'job 1:1' }, '422', '/client_state'],
    ['webhook_url not a URL', { webhook_url: 'not a url' }, '10003', '/webhook_url'],
    ['unknown connection', { connection_id: '42' }, '10017', '/connection_id'],
    ['bad quality', { quality: 'best' }, '422', '/quality'],
  ])('answers 422 for %s', async (_name, overrides, code, pointer) => {
    const { status, json } = await post(sendBody(overrides));
    expect(status).toBe(422);
    expect(json.errors).toContainEqual(expect.objectContaining({ code, source: { pointer } }));
    expect(json.errors[0].title).toEqual(expect.any(String));
    expect(sim.faxes()).toHaveLength(0);
  });

  it('accepts a SIP URI destination and answers 400 to a body that is not JSON', async () => {
    expect((await post(sendBody({ to: 'sip:fax@pbx.example.com' }))).status).toBe(202);
    const bad = await post('{"to":');
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0]).toMatchObject({ code: '10015', source: { pointer: '/' } });
  });

  it('answers 401 with code 10009 without the right bearer key', async () => {
    for (const apiKey of ['wrong', undefined]) {
      const { status, json } = await apiCall(`${sim.url}/faxes`, { body: sendBody(), apiKey });
      expect(status).toBe(401);
      expect(json.errors[0]).toMatchObject({ code: '10009', title: 'Authentication failed' });
    }
    expect(sim.faxes()).toHaveLength(0);
  });
});

describe('outbound webhooks', () => {
  it('delivers queued → media.processed → sending.started → delivered, signed as Telnyx signs', async () => {
    const pdf = await makePdf(3);
    files.routes.set('/doc.pdf', { body: pdf });
    const { json } = await post(sendBody());
    await sim.waitForIdle();

    expect(eventTypes()).toEqual([
      'fax.queued',
      'fax.media.processed',
      'fax.sending.started',
      'fax.delivered',
    ]);
    for (const hook of hooks.received) {
      expect(verifyBothWays(hook, sim.publicKey)).toEqual({ crypto: true, nacl: true });
      expect(Math.abs(Number(hook.headers['telnyx-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      expect(hook.json.data).toMatchObject({ record_type: 'event', payload: { fax_id: json.data.id } });
      expect(hook.json.data.id).toMatch(UUID);
      expect(hook.json.meta).toEqual({ attempt: 1, delivered_to: hooks.url });
    }
    const delivered = hooks.received[3]!.json.data;
    expect(delivered.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(delivered.payload).toMatchObject({
      connection_id: CONNECTION_ID,
      direction: 'outbound',
      from: FROM,
      to: TO,
      original_media_url: `${files.origin}/doc.pdf`,
      client_state: CLIENT_STATE,
      status: 'delivered',
      page_count: 3,
      call_duration_secs: expect.any(Number),
    });

    const tampered = {
      ...hooks.received[0]!,
      rawBody: Buffer.from(hooks.received[0]!.rawBody.toString() + ' '),
    };
    expect(verifyBothWays(tampered, sim.publicKey)).toEqual({ crypto: false, nacl: false });

    const [fax] = sim.faxes();
    expect(fax).toMatchObject({ status: 'delivered', pageCount: 3, documentPages: 3 });
    expect(fax?.media).toEqual({ sha256: sha256(pdf), bytes: pdf.length, httpStatus: 200 });
    expect(fax?.statusHistory).toEqual(['queued', 'media.processed', 'originated', 'sending', 'delivered']);
  });

  it('fails documented numbers and failNumber scripts with their reasons', async () => {
    await post(sendBody({ to: '+15555550101' }));
    await sim.waitForIdle();
    expect(eventTypes()).toEqual(['fax.queued', 'fax.media.processed', 'fax.sending.started', 'fax.failed']);
    expect(hooks.received[3]!.json.data.payload).toMatchObject({
      status: 'failed',
      failure_reason: 'user_busy',
    });

    sim.failNumber(TO, ['receiver_no_answer', 'receiver_call_dropped']);
    for (let send = 0; send < 3; send++) await post(sendBody());
    await sim.waitForIdle();
    const outcomes = sim.faxes().map((fax) => fax.failureReason ?? fax.status);
    expect(outcomes).toEqual(['user_busy', 'receiver_no_answer', 'receiver_call_dropped', 'delivered']);
  });

  it.each([
    ['a redirect', { status: 302, headers: { location: '/elsewhere.pdf' } }, 'file_download_failed'],
    ['a 404', { status: 404 }, 'file_download_failed'],
    ['something that is not a PDF', { body: '<html>hello</html>' }, 'file_format_invalid'],
    ['a damaged PDF', { body: '%PDF-1.7\n garbage' }, 'file_format_invalid'],
  ])('fails with the media reason for %s', async (_name, route, reason) => {
    files.routes.set('/doc.pdf', route);
    await post(sendBody());
    await sim.waitForIdle();
    expect(eventTypes()).toEqual(['fax.queued', 'fax.failed']);
    expect(hooks.received[1]!.json.data.payload.failure_reason).toBe(reason);
    expect(files.hits).toEqual(['/doc.pdf']);
  });

  it('enforces the page and size limits asynchronously', async () => {
    const lastFailure = () => hooks.received.at(-1)!.json.data.payload.failure_reason;
    await start({ limits: { maxPages: 2 } });
    expect((await post(sendBody())).status).toBe(202);
    await sim.waitForIdle();
    expect(lastFailure()).toBe('page_count_limit_exceeded');
    expect(sim.faxes()[0]?.documentPages).toBe(3);

    await start({ limits: { maxBytes: 100 } });
    expect((await post(sendBody())).status).toBe(202);
    await sim.waitForIdle();
    expect(lastFailure()).toBe('file_size_limit_exceeded');
  });

  it('retries a webhook the receiver refused, counting attempts in meta', async () => {
    hooks.answer = (_hook, index) => (index === 0 ? 503 : index === 1 ? { status: 200, delayMs: 2500 } : 200);
    await start({ timing: { stepMs: 5, webhookRetryDelaysMs: [20, 40], webhookTimeoutMs: 300 } });
    await post(sendBody());
    await sim.waitForIdle();
    const queued = hooks.received.filter((hook) => hook.json.data.event_type === 'fax.queued');
    expect(queued.map((hook) => hook.json.meta.attempt)).toEqual([1, 2, 3]);
    expect(new Set(queued.map((hook) => hook.json.data.id)).size).toBe(1);
    const attempts = sim.deliveries().filter((delivery) => delivery.eventType === 'fax.queued');
    expect(attempts.map((delivery) => delivery.status)).toEqual([503, 0, 200]);
    expect(eventTypes().at(-1)).toBe('fax.delivered');
  });
});

describe('webhook modes', () => {
  it('duplicate sends every event twice with the same id', async () => {
    sim.webhookMode('duplicate');
    await post(sendBody());
    await sim.waitForIdle();
    const ids = hooks.received.map((hook) => hook.json.data.id);
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]).toBe(ids[1]);
  });

  it('reverse sends a fax’s events newest first once the final one exists', async () => {
    sim.webhookMode('reverse');
    await post(sendBody());
    await sim.waitForIdle();
    expect(eventTypes()).toEqual([
      'fax.delivered',
      'fax.sending.started',
      'fax.media.processed',
      'fax.queued',
    ]);
  });

  it('drop sends nothing but still moves the fax on', async () => {
    sim.webhookMode('drop');
    await post(sendBody());
    await sim.waitForIdle();
    expect(hooks.received).toHaveLength(0);
    expect(sim.deliveries().map((delivery) => delivery.status)).toEqual([-1, -1, -1, -1]);
    expect(sim.faxes()[0]?.status).toBe('delivered');
  });
});

describe('GET /v2/faxes', () => {
  it('filters by number, direction and creation time, and pages', async () => {
    for (const to of ['+15551110001', '+15551110002', '+15551110001', '+15551110001']) {
      await post(sendBody({ to }));
      clockOffsetMs += 60_000;
    }
    const list = (query: string) => apiCall(`${sim.url}/faxes?${query}`, { apiKey: API_KEY });

    const byNumber = await list('filter[to][eq]=%2B15551110001&filter[direction][eq]=outbound');
    expect(byNumber.json.data).toHaveLength(3);
    expect(byNumber.json.meta).toEqual({ page_number: 1, page_size: 20, total_pages: 1, total_results: 3 });

    const all = sim.faxes();
    const since = await list(`filter[created_at][gte]=${encodeURIComponent(all[2]!.createdAt)}`);
    expect(since.json.data.map((fax: { id: string }) => fax.id)).toEqual([all[3]!.id, all[2]!.id]);
    const before = await list(`filter[created_at][lt]=${encodeURIComponent(all[1]!.createdAt)}`);
    expect(before.json.data.map((fax: { id: string }) => fax.id)).toEqual([all[0]!.id]);

    const page2 = await list('page[size]=3&page[number]=2');
    expect(page2.json.meta).toEqual({ page_number: 2, page_size: 3, total_pages: 2, total_results: 4 });
    expect(page2.json.data.map((fax: { id: string }) => fax.id)).toEqual([all[0]!.id]);
    expect((await list('filter[direction][eq]=inbound')).json.meta.total_results).toBe(0);

    const tooBig = await list('page[size]=251');
    expect(tooBig.status).toBe(400);
    expect(tooBig.json.errors[0].source).toEqual({ parameter: 'page[size]' });
  });

  it('gets, cancels and deletes one fax, answering 404 for unknown ids', async () => {
    const { json } = await post(sendBody({ to: '+15555550110' }));
    const faxUrl = `${sim.url}/faxes/${json.data.id}`;
    expect(
      (await apiCall(`${sim.url}/faxes/00000000-0000-4000-8000-000000000000`, { apiKey: API_KEY })).json,
    ).toEqual({
      errors: [{ code: '404', title: 'Not Found', detail: 'The requested resource does not exist' }],
    });

    await sim.waitForIdle();
    expect((await apiCall(faxUrl, { apiKey: API_KEY })).json.data.status).toBe('sending');
    const cancel = await apiCall(`${faxUrl}/actions/cancel`, { method: 'POST', apiKey: API_KEY });
    expect(cancel).toMatchObject({ status: 202, json: { data: { result: 'ok' } } });
    await sim.waitForIdle();
    expect(hooks.received.at(-1)!.json.data.payload).toMatchObject({ failure_reason: 'sender_canceled' });
    expect((await apiCall(`${faxUrl}/actions/cancel`, { method: 'POST', apiKey: API_KEY })).status).toBe(422);

    expect((await apiCall(faxUrl, { method: 'DELETE', apiKey: API_KEY })).status).toBe(204);
    expect((await apiCall(faxUrl, { apiKey: API_KEY })).status).toBe(404);
    expect(sim.faxes()[0]?.deleted).toBe(true);
  });
});

describe('injected responses', () => {
  it('answers an injected 429 without creating a fax, then succeeds', async () => {
    sim.injectResponses('POST /faxes', [{ status: 429 }]);
    const limited = await post(sendBody());
    expect(limited.status).toBe(429);
    expect(limited.json.errors[0].code).toBe('10011');
    expect(limited.headers.get('x-ratelimit-reset')).toBe('1');
    expect(sim.faxes()).toHaveLength(0);
    expect((await post(sendBody())).status).toBe(202);
    expect(sim.requests().map((request) => [request.status, request.injected])).toEqual([
      [429, true],
      [202, false],
    ]);
  });

  it('creates the fax but answers 500 with afterCreate (an uncertain outcome)', async () => {
    sim.injectResponses('/v2/faxes', [{ status: 500, afterCreate: true }]);
    const answer = await post(sendBody());
    expect(answer.status).toBe(500);
    expect(answer.json.errors[0].code).toBe('10007');
    const listed = await apiCall(`${sim.url}/faxes?filter[to][eq]=${encodeURIComponent(TO)}`, {
      apiKey: API_KEY,
    });
    expect(listed.json.data).toHaveLength(1);
    expect(listed.json.data[0].client_state).toBe(CLIENT_STATE);
  });

  it('can reset the connection or hang after creating the fax', async () => {
    sim.injectResponses('POST /faxes', [
      { afterCreate: true, destroySocket: true },
      { afterCreate: true, hangMs: 60_000 },
    ]);
    await expect(post(sendBody())).rejects.toThrow();
    const hung = apiCall(`${sim.url}/faxes`, {
      body: sendBody(),
      apiKey: API_KEY,
      signal: AbortSignal.timeout(200),
    });
    await expect(hung).rejects.toThrow();
    expect(sim.faxes()).toHaveLength(2);
    await sim.waitForIdle();
    expect(sim.requests().map((request) => request.status)).toEqual([0, 0]);
  });
});

describe('inbound faxes', () => {
  it('delivers fax.received with an expiring media_url that refresh renews', async () => {
    const fax = await sim.sendInbound({
      from: '+16132484850',
      to: TO,
      pages: 2,
      webhookUrl: hooks.url,
      mediaTtlMs: 60_000,
    });
    await sim.waitForIdle();
    expect(eventTypes()).toEqual(['fax.receiving.started', 'fax.media.processing.started', 'fax.received']);
    const received = hooks.received[2]!;
    expect(verifyBothWays(received, sim.publicKey)).toEqual({ crypto: true, nacl: true });
    expect(received.json.data.payload).toMatchObject({
      fax_id: fax.id,
      direction: 'inbound',
      from: '+16132484850',
      caller_id: '+16132484850',
      to: TO,
      status: 'received',
      page_count: 2,
      partial_content: false,
    });
    expect(received.json.data.payload.client_state).toBeUndefined();

    const firstUrl: string = received.json.data.payload.media_url;
    const download = await fetch(firstUrl);
    const bytes = new Uint8Array(await download.arrayBuffer());
    expect(download.status).toBe(200);
    expect(sha256(bytes)).toBe(fax.media?.sha256);
    expect((await PDFDocument.load(bytes)).getPageCount()).toBe(2);

    clockOffsetMs += 61_000;
    expect((await fetch(firstUrl)).status).toBe(403);
    const refresh = await apiCall(`${sim.url}/faxes/${fax.id}/actions/refresh`, {
      method: 'POST',
      apiKey: API_KEY,
    });
    expect(refresh).toMatchObject({ status: 200, json: { data: { result: 'ok' } } });
    const current = await apiCall(`${sim.url}/faxes/${fax.id}`, { apiKey: API_KEY });
    expect(current.json.data.media_url).not.toBe(firstUrl);
    expect((await fetch(current.json.data.media_url)).status).toBe(200);
  });

  it('reports an inbound failure, and starts inbound faxes from the control endpoint', async () => {
    await sim.sendInbound({
      from: 'anonymous',
      to: TO,
      webhookUrl: hooks.url,
      failWith: 'sender_call_dropped',
    });
    const control = await apiCall(sim.url.replace(/\/v2$/, '/_sim/inbound'), {
      body: { from: '+16132484850', to: TO, pages: 1, partial: true, webhookUrl: hooks.url },
    });
    expect(control.status).toBe(202);
    await sim.waitForIdle();
    const failed = hooks.received.find((hook) => hook.json.data.event_type === 'fax.failed');
    expect(failed?.json.data.payload).toMatchObject({
      direction: 'inbound',
      failure_reason: 'sender_call_dropped',
    });
    const partial = hooks.received.find((hook) => hook.json.data.event_type === 'fax.received');
    expect(partial?.json.data.payload).toMatchObject({ fax_id: control.json.data.id, partial_content: true });
  });
});
