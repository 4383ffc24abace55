import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

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

  it('works where undici’s index was never loaded, as in the daemon', async () => {
    // This file imports undici's index for comparison, and the index adds `request` and its kin to every
    // Dispatcher (Object.assign(Dispatcher.prototype, api)): only a process that loads src/lib/undiciCore.ts
    // alone (compiled: `npm run build` first) shows what production runs.
    const compiled = new URL('../../dist/src/lib/undiciCore.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      import { Agent, request } from ${JSON.stringify(compiled)};
      const require = createRequire(${JSON.stringify(compiled)});
      const index = require.resolve('undici');
      const dispatcher = new Agent();
      const res = await request(${JSON.stringify(`${origin}/v2/faxes?page%5Bsize%5D=5`)}, {
        method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, dispatcher,
      });
      const answer = { status: res.statusCode, body: await res.body.json() };
      await dispatcher.close();
      console.log(JSON.stringify({
        indexLoaded: index in require.cache,
        undiciFiles: Object.keys(require.cache).filter((file) => file.includes('undici')).length,
        patched: typeof Agent.prototype.request,
        ...answer,
      }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    expect(seen).toMatchObject({
      indexLoaded: false,
      patched: 'undefined',
      status: 200,
      body: { method: 'POST', url: '/v2/faxes?page%5Bsize%5D=5', body: '{"a":1}' },
    });
    // undici's own files did load, from the same require cache the check above looked in.
    expect(seen.undiciFiles).toBeGreaterThan(0);
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
