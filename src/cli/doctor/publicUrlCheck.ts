import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';

import type { Dispatcher } from 'undici';

import type { Config } from '../../config/loadConfig.js';
import { createServer } from '../../lib/nodeHttp.js';
import { probeGet } from './http.js';
import { type CheckResult, ok, problem, skipped } from './report.js';

const NAME = 'http.public_url';
const HTTPS = 'http.public_url over HTTPS';

/**
 * Telnyx fetches documents from and posts events to `http.public_url`, so it must lead to this daemon. The
 * daemon's /healthz names a random instance id; doctor asks for /healthz through the public URL, as an outside
 * client would, and compares. When the daemon is not running, doctor answers on http.listen itself for the
 * moment, so a proxy or tunnel can be checked before the first start.
 */
export async function checkPublicUrl(config: Config, dispatcher?: Dispatcher): Promise<CheckResult[]> {
  const publicUrl = config.http.public_url.replace(/\/+$/, '');
  const https = httpsVerdict(config, publicUrl);
  const listen = config.http.listen;
  const localUrl = `http://${hostForUrl(listen.host)}:${listen.port}/healthz`;

  let standIn: Server | null = null;
  let expected: string;
  const local = await probeGet(localUrl);
  if (!('error' in local) && local.status === 200 && instanceOf(local.body)) {
    expected = instanceOf(local.body)!;
  } else if ('error' in local) {
    expected = `doctor-${randomUUID()}`;
    try {
      standIn = await listenStandIn(listen.host, listen.port, expected);
    } catch (error) {
      const reason = (error as Error).message;
      return [
        problem(
          NAME,
          `faxbridge is not running and ${listen.host}:${listen.port} cannot be opened: ${reason}`,
          'free http.listen or change it',
        ),
        https,
      ];
    }
  } else {
    return [
      problem(
        NAME,
        `http.listen ${listen.host}:${listen.port} is answered by something that is not faxbridge (HTTP ${local.status})`,
        'stop the other program on that port or change http.listen',
      ),
      https,
    ];
  }

  try {
    const answer = await probeGet(`${publicUrl}/healthz`, {}, dispatcher);
    const who = standIn
      ? 'this machine (doctor answered on http.listen: faxbridge is not running)'
      : 'this faxbridge';
    if ('error' in answer) {
      return [
        problem(
          NAME,
          `${publicUrl}/healthz did not answer: ${answer.error}`,
          `make ${publicUrl} reach http.listen (${listen.host}:${listen.port}) from the internet: DNS, the reverse proxy or tunnel, the firewall, and a valid certificate`,
        ),
        https,
      ];
    }
    const instance = answer.status === 200 ? instanceOf(answer.body) : null;
    if (instance === expected) return [ok(NAME, `${publicUrl} reaches ${who}`), https];
    if (instance && !standIn) {
      return [
        ok(NAME, `${publicUrl} reaches another faxbridge instance (fine behind a load balancer)`),
        https,
      ];
    }
    const what = instance
      ? 'a different faxbridge'
      : `HTTP ${answer.status} from something that is not faxbridge`;
    return [
      problem(
        NAME,
        `${publicUrl}/healthz answered ${what}`,
        `point the reverse proxy for ${publicUrl} at http.listen (${listen.host}:${listen.port}) and pass /healthz, /webhooks/telnyx and /media/ through unchanged`,
      ),
      https,
    ];
  } finally {
    if (standIn) await new Promise<void>((resolve) => standIn.close(() => resolve()));
  }
}

function httpsVerdict(config: Config, publicUrl: string): CheckResult {
  if (publicUrl.startsWith('https://')) return ok(HTTPS, 'yes');
  if (config.sandbox) return skipped(HTTPS, 'sandbox mode: the simulator on this machine needs no HTTPS');
  return problem(
    HTTPS,
    `${publicUrl} is plain HTTP: Telnyx would fetch the documents in clear`,
    'put a TLS reverse proxy (Caddy, nginx) with a public certificate in front of http.listen and set http.public_url to its https:// address',
  );
}

function instanceOf(body: unknown): string | null {
  const instance = (body as { instance?: unknown } | null)?.instance;
  return typeof instance === 'string' && instance.length > 0 ? instance : null;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function listenStandIn(host: string, port: number, instance: string): Promise<Server> {
  const server = createServer((req, res) => {
    const healthz = req.method === 'GET' && new URL(req.url ?? '/', 'http://x').pathname.endsWith('/healthz');
    res.writeHead(healthz ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(healthz ? { status: 'ok', instance } : { error: 'not found' }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
