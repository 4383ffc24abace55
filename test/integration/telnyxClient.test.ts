import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import {
  decodeClientState,
  encodeClientState,
  makeTelnyxClient,
  type SendFaxRequest,
  type TelnyxClient,
  type TelnyxClientOptions,
  type TelnyxFax,
} from '../../src/telnyx/client.js';

const API_KEY = 'KEY0123_super_secret_api_key';
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface Received {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}
type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => void;

const servers: Server[] = [];
const clients: TelnyxClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve, reject) => {
          server.closeAllConnections();
          server.close((err) => (err ? reject(err) : resolve()));
        }),
    ),
  );
});

/** A stand-in for Telnyx on a loopback port: records each request (body included) and lets `handler` answer. */
async function startTelnyx(handler: Handler): Promise<{ apiUrl: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const req: Received = {
        method: raw.method ?? '',
        url: new URL(raw.url ?? '/', 'http://telnyx.test'),
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(req);
      handler(req, res, raw);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { apiUrl: `http://127.0.0.1:${port}/v2`, received };
}

/** A port nobody listens on: bind, note the port, close. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v2`;
}

function client(apiUrl: string, options: Partial<TelnyxClientOptions> = {}): TelnyxClient {
  const made = makeTelnyxClient({ apiUrl, apiKey: API_KEY, timeoutMs: 2000, ...options });
  clients.push(made);
  return made;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function fax(n: number, overrides: Partial<TelnyxFax> = {}): TelnyxFax {
  return {
    record_type: 'fax',
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    status: 'queued',
    direction: 'outbound',
    from: '+13125550100',
    to: '+13127367276',
    client_state: encodeClientState(`job-${n}`, 1),
    created_at: '2026-11-27T12:00:00.000Z',
    ...overrides,
  };
}

const sendRequest: SendFaxRequest = {
  connection_id: '1293384261075731499',
  from: '+13125550100',
  to: '+13127367276',
  media_url: 'https://media.example.com/doc.pdf?sig=abc',
  webhook_url: 'https://bridge.example.com/webhooks/telnyx',
  client_state: encodeClientState('job', 1),
};

const envelope422 = {
  errors: [
    {
      code: '10016',
      title: 'Invalid phone number',
      detail: 'The to number must be in +E.164 format.',
      source: { pointer: '/to' },
      meta: { url: 'https://developers.telnyx.com/docs/overview/errors/10016' },
    },
  ],
};

describe('sendFax', () => {
  it('POSTs exactly the schema fields as JSON with bearer auth and a versioned User-Agent', async () => {
    const created = fax(1, { client_state: sendRequest.client_state });
    const telnyx = await startTelnyx((_req, res) => json(res, 202, { data: created }));
    const extra = { ...sendRequest, quality: 'high' as const, jobId: 'must-not-leak' };

    const outcome = await client(telnyx.apiUrl).sendFax(extra);

    expect(outcome).toEqual({ kind: 'ok', value: created });
    expect(telnyx.received).toHaveLength(1);
    const [req] = telnyx.received;
    expect(req!.method).toBe('POST');
    expect(req!.url.pathname).toBe('/v2/faxes');
    expect(req!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req!.headers.accept).toBe('application/json');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toBe(`faxbridge/${VERSION}`);
    const body = JSON.parse(req!.body) as Record<string, string>;
    expect(body).toEqual({
      connection_id: '1293384261075731499',
      from: '+13125550100',
      to: '+13127367276',
      media_url: 'https://media.example.com/doc.pdf?sig=abc',
      webhook_url: 'https://bridge.example.com/webhooks/telnyx',
      client_state: sendRequest.client_state,
      quality: 'high',
    });
    expect(body.client_state).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(body.client_state!, 'base64').toString('utf8')).toBe('job:1');
    expect(decodeClientState(body.client_state)).toEqual({ jobId: 'job', attempt: 1 });
  });

  it('uses the User-Agent given in options', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 202, { data: fax(1) }));
    await client(telnyx.apiUrl, { userAgent: 'faxbridge/9.9.9-test' }).sendFax(sendRequest);
    expect(telnyx.received[0]!.headers['user-agent']).toBe('faxbridge/9.9.9-test');
  });

  it('422 with a Telnyx envelope is rejected with the errors and their words', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 422, envelope422));
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toEqual({
      kind: 'rejected',
      status: 422,
      errors: [
        {
          code: '10016',
          title: 'Invalid phone number',
          detail: 'The to number must be in +E.164 format.',
          source: { pointer: '/to' },
        },
      ],
      detail: 'Invalid phone number: The to number must be in +E.164 format.',
    });
  });

  it.each([
    ['Retry-After seconds', { 'retry-after': '7' }, 7000],
    ['x-ratelimit-reset seconds', { 'x-ratelimit-reset': '3', 'x-ratelimit-remaining': '0' }, 3000],
    ['no hint', {}, null],
  ])('429 with %s is retry', async (_label, headers, retryAfterMs) => {
    const telnyx = await startTelnyx((_req, res) =>
      json(
        res,
        429,
        { errors: [{ code: '10011', title: 'Too many requests', detail: 'You have exceeded the limit.' }] },
        headers,
      ),
    );
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'retry', status: 429, retryAfterMs });
    expect(outcome.kind === 'retry' && outcome.reason).toContain('Too many requests');
  });

  it.each([
    [500, { errors: [{ code: '10007', title: 'Unexpected error' }] }],
    [503, { errors: [{ code: '10007', title: 'Unexpected error' }] }],
    [408, { errors: [{ code: '10008', title: 'Request timeout' }] }],
  ])('%i is uncertain', async (status, body) => {
    const telnyx = await startTelnyx((_req, res) => json(res, status, body));
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'uncertain', status });
    expect(outcome.kind === 'uncertain' && outcome.reason).toContain(body.errors[0]!.title);
  });

  it('non-JSON 502 from a proxy is uncertain and quotes the start of the page', async () => {
    const page = `<html><body>${'Bad gateway '.repeat(50)}</body></html>`;
    const telnyx = await startTelnyx((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(page);
    });
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toEqual({
      kind: 'uncertain',
      status: 502,
      reason: `POST /faxes answered 502 Bad Gateway: ${page.slice(0, 200)}`,
    });
  });

  it('non-JSON 4xx is rejected with status text and the first 200 characters', async () => {
    const page = `<html>${'nope '.repeat(100)}</html>`;
    const telnyx = await startTelnyx((_req, res) => {
      res.writeHead(403, 'Forbidden', { 'content-type': 'text/html' });
      res.end(page);
    });
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toEqual({
      kind: 'rejected',
      status: 403,
      errors: [],
      detail: `403 Forbidden: ${page.slice(0, 200)}`,
    });
  });

  it('a server that hangs past the timeout gives uncertain, on time', async () => {
    const telnyx = await startTelnyx(() => {});
    const started = Date.now();
    const outcome = await client(telnyx.apiUrl, { timeoutMs: 300 }).sendFax(sendRequest);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(outcome).toEqual({
      kind: 'uncertain',
      status: null,
      reason: 'POST /faxes timed out after 300 ms (after the request was sent)',
    });
    expect(telnyx.received).toHaveLength(1);
  });

  it('a socket destroyed mid-response is uncertain (the fax may exist)', async () => {
    const telnyx = await startTelnyx((_req, res, raw) => {
      res.writeHead(202, { 'content-type': 'application/json', 'content-length': '400' });
      res.write('{"data":{"id":"00000000-');
      setTimeout(() => raw.socket.destroy(), 20);
    });
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'uncertain', status: 202 });
  });

  it('a socket destroyed before any response is uncertain', async () => {
    const telnyx = await startTelnyx((_req, _res, raw) => raw.socket.destroy());
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'uncertain', status: null });
    expect(outcome.kind === 'uncertain' && outcome.reason).toContain('after the request was sent');
  });

  it('a 202 without a readable fax is uncertain', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 202, { data: { result: 'ok' } }));
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'uncertain', status: 202 });
  });

  it('a refused connection is retry', async () => {
    const outcome = await client(await closedPortUrl()).sendFax(sendRequest);
    expect(outcome).toMatchObject({ kind: 'retry', status: null, retryAfterMs: null });
    expect(outcome.kind === 'retry' && outcome.reason).toContain('ECONNREFUSED');
  });

  it('a connect that never completes is retry when the deadline passes, and on time', async () => {
    // A connector that never calls back stands in for a black-holed SYN; the dispatcher belongs to the test.
    const stuck = new Agent({ connect: () => {} });
    try {
      const started = Date.now();
      const outcome = await client('http://127.0.0.1:9/v2', { timeoutMs: 200, dispatcher: stuck }).sendFax(
        sendRequest,
      );
      expect(Date.now() - started).toBeLessThan(1500);
      expect(outcome).toEqual({
        kind: 'retry',
        status: null,
        retryAfterMs: null,
        reason: 'POST /faxes timed out after 200 ms (request not sent)',
      });
    } finally {
      await stuck.destroy();
    }
  });

  it('a caller signal aborted before the call is retry, and nothing reaches the server', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 202, { data: fax(1) }));
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest, controller.signal);
    expect(outcome).toMatchObject({
      kind: 'retry',
      reason: 'POST /faxes aborted by caller (request not sent)',
    });
    expect(telnyx.received).toHaveLength(0);
  });

  it('a caller abort while Telnyx is working is uncertain', async () => {
    const controller = new AbortController();
    const telnyx = await startTelnyx(() => controller.abort(new Error('shutting down')));
    const outcome = await client(telnyx.apiUrl).sendFax(sendRequest, controller.signal);
    expect(outcome).toMatchObject({
      kind: 'uncertain',
      reason: 'POST /faxes aborted by caller (after the request was sent)',
    });
  });

  it('never puts the API key into an outcome, even when the server echoes it', async () => {
    const telnyx = await startTelnyx((req, res) => {
      const echoed = `credentials: ${String(req.headers.authorization)}`;
      if (req.url.searchParams.has('page[number]'))
        return json(res, 500, { errors: [{ code: '1', title: echoed }] });
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(echoed);
    });
    const c = client(telnyx.apiUrl);
    const rejected = await c.sendFax(sendRequest);
    const uncertain = await c.listFaxes({});
    expect(rejected).toMatchObject({
      kind: 'rejected',
      status: 401,
      detail: '401 Unauthorized: credentials: Bearer [redacted]',
    });
    expect(uncertain).toMatchObject({ kind: 'uncertain', status: 500 });
    expect(JSON.stringify([rejected, uncertain])).not.toContain(API_KEY);
  });
});

describe('listFaxes', () => {
  it('follows every page with page[size]=250 and passes the filters', async () => {
    const pages = [
      [fax(1), fax(2)],
      [fax(3), fax(4)],
      [fax(5, { direction: 'outbound', status: 'delivered' })],
    ];
    const telnyx = await startTelnyx((req, res) => {
      const number = Number(req.url.searchParams.get('page[number]'));
      json(res, 200, {
        data: pages[number - 1] ?? [],
        meta: { page_number: number, page_size: 250, total_pages: 3, total_results: 5 },
      });
    });
    const createdAfter = new Date('2026-11-27T11:50:00.000Z');
    const createdBefore = new Date('2026-11-27T12:10:00.000Z');

    const outcome = await client(telnyx.apiUrl).listFaxes({
      to: '+13127367276',
      from: '+13125550100',
      direction: 'outbound',
      createdAfter,
      createdBefore,
    });

    expect(outcome).toEqual({ kind: 'ok', value: { faxes: pages.flat(), unreadable: [] } });
    expect(
      telnyx.received.map((r) => [r.method, r.url.pathname, r.url.searchParams.get('page[number]')]),
    ).toEqual([
      ['GET', '/v2/faxes', '1'],
      ['GET', '/v2/faxes', '2'],
      ['GET', '/v2/faxes', '3'],
    ]);
    for (const req of telnyx.received) {
      expect(Object.fromEntries(req.url.searchParams)).toMatchObject({
        'filter[to][eq]': '+13127367276',
        'filter[from][eq]': '+13125550100',
        'filter[direction][eq]': 'outbound',
        'filter[created_at][gte]': '2026-11-27T11:50:00.000Z',
        'filter[created_at][lte]': '2026-11-27T12:10:00.000Z',
        'page[size]': '250',
      });
      expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(req.headers['content-type']).toBeUndefined();
    }
  });

  it('a short page without meta is the last, and no filter it was not given is sent', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 200, { data: [fax(1)] }));
    const outcome = await client(telnyx.apiUrl).listFaxes({});
    expect(outcome).toEqual({ kind: 'ok', value: { faxes: [fax(1)], unreadable: [] } });
    expect([...telnyx.received[0]!.url.searchParams.keys()]).toEqual(['page[number]', 'page[size]']);
  });

  it('a failing page decides the outcome', async () => {
    const telnyx = await startTelnyx((req, res) => {
      if (req.url.searchParams.get('page[number]') === '2') return json(res, 503, { errors: [] });
      json(res, 200, {
        data: [fax(1)],
        meta: { page_number: 1, page_size: 250, total_pages: 3, total_results: 3 },
      });
    });
    const outcome = await client(telnyx.apiUrl).listFaxes({});
    expect(outcome).toMatchObject({ kind: 'uncertain', status: 503 });
    expect(telnyx.received).toHaveLength(2);
  });

  it.each([
    ['no meta', undefined],
    ['total_pages missing', { page_number: 1, page_size: 250 }],
    ['total_pages not an integer', { page_number: 1, page_size: 250, total_pages: '2' }],
    ['total_pages saying 1', { page_number: 1, page_size: 250, total_pages: 1 }],
  ])('pages on while a page is full, whatever meta says (%s)', async (_what, meta) => {
    const full = Array.from({ length: 250 }, (_, i) => fax(i + 1));
    const telnyx = await startTelnyx((req, res) => {
      const number = Number(req.url.searchParams.get('page[number]'));
      json(res, 200, { data: number === 1 ? full : number === 2 ? [fax(251)] : [], meta });
    });
    const outcome = await client(telnyx.apiUrl).listFaxes({});
    expect(outcome).toEqual({ kind: 'ok', value: { faxes: [...full, fax(251)], unreadable: [] } });
    expect(telnyx.received).toHaveLength(2);
  });

  it('a full last page is followed by one empty page, then the walk ends', async () => {
    const full = Array.from({ length: 250 }, (_, i) => fax(i + 1));
    const telnyx = await startTelnyx((req, res) =>
      json(res, 200, { data: req.url.searchParams.get('page[number]') === '1' ? full : [] }),
    );
    const outcome = await client(telnyx.apiUrl).listFaxes({});
    expect(outcome).toMatchObject({ kind: 'ok', value: { faxes: full } });
    expect(telnyx.received).toHaveLength(2);
  });

  it('an entry that is not a readable fax is set apart; the rest of the page still counts', async () => {
    const odd = { ...fax(2), from: null };
    const telnyx = await startTelnyx((_req, res) => json(res, 200, { data: [fax(1), odd, 42, fax(3)] }));
    expect(await client(telnyx.apiUrl).listFaxes({})).toEqual({
      kind: 'ok',
      value: {
        faxes: [fax(1), fax(3)],
        unreadable: [
          { id: odd.id, client_state: odd.client_state, snippet: JSON.stringify(odd).slice(0, 200) },
          { id: null, client_state: null, snippet: '42' },
        ],
      },
    });
  });

  it.each([
    ['not JSON', '<html>maintenance</html>'],
    ['no data array', JSON.stringify({ data: { id: 1 } })],
    ['JSON null', 'null'],
  ])('an unreadable answer (%s) is uncertain, never an empty list', async (_what, body) => {
    const telnyx = await startTelnyx((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    expect(await client(telnyx.apiUrl).listFaxes({})).toMatchObject({ kind: 'uncertain', status: 200 });
  });
});

describe('getFax, refreshFaxMedia, cancelFax', () => {
  it('getFax returns the fax, and 404 is rejected with status 404', async () => {
    const known = fax(7, { direction: 'inbound', media_url: 'https://telnyx.example/media/7' });
    const telnyx = await startTelnyx((req, res) => {
      if (req.url.pathname === `/v2/faxes/${known.id}`) return json(res, 200, { data: known });
      json(res, 404, { errors: [{ code: '404', title: 'Not Found', detail: 'Resource not found' }] });
    });
    const c = client(telnyx.apiUrl);
    expect(await c.getFax(known.id)).toEqual({ kind: 'ok', value: known });
    expect(await c.getFax('00000000-0000-4000-8000-000000000000')).toMatchObject({
      kind: 'rejected',
      status: 404,
      detail: 'Not Found: Resource not found',
    });
    expect(telnyx.received.map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('refreshFaxMedia and cancelFax POST to their action paths without a body', async () => {
    const telnyx = await startTelnyx((req, res) => {
      json(res, req.url.pathname.endsWith('/refresh') ? 200 : 202, { data: { result: 'ok' } });
    });
    const c = client(telnyx.apiUrl);
    expect(await c.refreshFaxMedia('abc/def')).toEqual({ kind: 'ok', value: undefined });
    expect(await c.cancelFax('f1')).toEqual({ kind: 'ok', value: undefined });
    expect(telnyx.received.map((r) => [r.method, r.url.pathname, r.body])).toEqual([
      ['POST', '/v2/faxes/abc%2Fdef/actions/refresh', ''],
      ['POST', '/v2/faxes/f1/actions/cancel', ''],
    ]);
  });

  it('cancelFax of a fax that already finished is rejected with Telnyx detail', async () => {
    const telnyx = await startTelnyx((_req, res) =>
      json(res, 422, {
        errors: [{ code: '422', title: 'Unprocessable Entity', detail: 'Fax cannot be canceled' }],
      }),
    );
    expect(await client(telnyx.apiUrl).cancelFax('f1')).toMatchObject({
      kind: 'rejected',
      status: 422,
      detail: 'Unprocessable Entity: Fax cannot be canceled',
    });
  });

  it('a trailing slash on apiUrl does not double the slash', async () => {
    const telnyx = await startTelnyx((_req, res) => json(res, 200, { data: fax(1) }));
    await client(`${telnyx.apiUrl}/`).getFax('f1');
    expect(telnyx.received[0]!.url.pathname).toBe('/v2/faxes/f1');
  });
});
