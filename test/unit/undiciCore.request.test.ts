import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Agent, buildConnector, request } from '../../src/lib/undiciCore.js';

/** src/lib/undiciCore.ts loads undici's parts from its own files; they must be the ones its index exports. */
describe('undiciCore', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exports the very Agent and buildConnector of undici’s index', () => {
    expect(Agent).toBe(undici.Agent);
    expect(buildConnector).toBe(undici.buildConnector);
  });

  it('request answers as undici’s own request does, query and body included', async () => {
    const dispatcher = new Agent();
    try {
      for (const send of [request, undici.request]) {
        const res = await send(`${origin}/v2/faxes?page%5Bsize%5D=5`, {
          method: 'POST',
          body: '{"a":1}',
          headers: { 'content-type': 'application/json' },
          dispatcher,
        });
        expect(res.statusCode).toBe(200);
        expect(await res.body.json()).toEqual({
          method: 'POST',
          url: '/v2/faxes?page%5Bsize%5D=5',
          body: '{"a":1}',
        });
      }
      const plain = await request(new URL(`${origin}/media/x`), { dispatcher });
      expect(await plain.body.json()).toEqual({ method: 'GET', url: '/media/x', body: '' });
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses what undici’s request refuses: a URL that is not http(s)', async () => {
    const dispatcher = new Agent();
    try {
      expect(() => request('file:///etc/passwd', { dispatcher })).toThrow(undici.errors.InvalidArgumentError);
    } finally {
      await dispatcher.close();
    }
  });
});
