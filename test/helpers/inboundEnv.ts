import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pino from 'pino';

import { loadConfig } from '../../src/config/loadConfig.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { Clock } from '../../src/lib/clock.js';
import { makeLogger, makeSilentLogger } from '../../src/log.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeWebhookKeyPair } from './signWebhook.js';
import { startTestRelay, type TestRelay } from './testRelay.js';

/** The simulator signs with this seed, so a test can sign extra events the daemon accepts. */
export const SIM_SEED_BYTE = 9;
export const simKeys = makeWebhookKeyPair(SIM_SEED_BYTE);

/** A clock a test can move: real time plus `offsetMs`. */
export interface MovableClock extends Clock {
  offsetMs: number;
}

export function makeMovableClock(): MovableClock {
  const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  return clock;
}

export interface InboundEnv {
  daemon: Daemon;
  simulator: Simulator;
  relay: TestRelay;
  clock: MovableClock;
  dataDir: string;
  httpUrl: string;
  webhookUrl: string;
  stop(): Promise<void>;
}

export interface InboundEnvOptions {
  yaml?: string;
  missedFaxPollMs?: number;
  /** Reuse across a restart (then the caller closes them). */
  simulator?: Simulator;
  relay?: TestRelay;
  dataDir?: string;
  clock?: MovableClock;
  /** Environment applied to the config (e.g. TELNYX_API_KEY for production mode). */
  env?: Record<string, string>;
  /** Test knob: deadline for fetching one received fax. */
  fetchDeadlineMs?: number;
}

/**
 * A sandbox daemon in this process whose mail goes to a real SMTP relay started here (`mail.smtp_url`),
 * against a real simulator, with a clock the test can move. Only Telnyx is simulated.
 */
export async function startInboundEnv(options: InboundEnvOptions = {}): Promise<InboundEnv> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'fb-inbound-'));
  const relay = options.relay ?? (await startTestRelay());
  const simulator =
    options.simulator ??
    (await startSimulator({
      timing: { stepMs: 20 },
      signingSeed: new Uint8Array(32).fill(SIM_SEED_BYTE),
    }));
  const clock = options.clock ?? makeMovableClock();
  const file = path.join(dataDir, 'faxbridge.yaml');
  writeFileSync(
    file,
    `data_dir: ${JSON.stringify(dataDir)}\nsmtp:\n  listen: 127.0.0.1:0\nhttp:\n  listen: 127.0.0.1:0\n${options.yaml ?? ''}`,
  );
  const { config } = loadConfig(file, { FAXBRIDGE_MAIL__SMTP_URL: relay.url, ...options.env });
  const daemon = await startDaemon({
    config,
    log: process.env.FB_TEST_LOG
      ? makeLogger({ level: 'debug' }, pino.destination({ dest: process.env.FB_TEST_LOG, sync: true }))
      : makeSilentLogger(),
    telnyx: { apiUrl: simulator.url, apiKey: '', publicKey: simulator.publicKey },
    clock,
    pollMs: 100,
    missedFaxPollMs: options.missedFaxPollMs,
    inboundFetchDeadlineMs: options.fetchDeadlineMs,
  });
  return {
    daemon,
    simulator,
    relay,
    clock,
    dataDir,
    httpUrl: daemon.http.url,
    webhookUrl: `${daemon.http.url}/webhooks/telnyx`,
    async stop() {
      await daemon.stop(2000);
      if (!options.simulator) await simulator.close();
      if (!options.relay) await relay.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface DelayingProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * Stands between the simulator and the daemon's webhook and holds each delivery `delayMs` before passing
 * it on byte for byte (signature headers included): a daemon that hears of a fax only after its media link
 * expired, as after an outage.
 */
export async function startDelayingProxy(target: string, delayMs: number): Promise<DelayingProxy> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'telnyx-signature-ed25519', 'telnyx-timestamp']) {
          const value = req.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) })
          .then(async (answer) => {
            await answer.arrayBuffer();
            res.writeHead(answer.status).end();
          })
          .catch(() => res.writeHead(502).end());
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/telnyx`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The PDF of a received-fax mail (beside it, in the HTML part, a picture of its first page). */
export function pdfOf(parsed: { attachments: Array<{ contentType: string; content: Buffer }> }): {
  content: Buffer;
} {
  const pdf = parsed.attachments.find((part) => part.contentType === 'application/pdf');
  if (!pdf) throw new Error('no PDF attached');
  return pdf;
}
