import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import nodemailer, { type SendMailOptions } from 'nodemailer';
import pino, { type DestinationStream } from 'pino';

import { loadConfig } from '../../src/config/loadConfig.js';
import { type Daemon, type DaemonOptions, startDaemon } from '../../src/daemon.js';
import { makeLogger, makeSilentLogger } from '../../src/log.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { freePort } from './freePort.js';

export { freePort };

export interface TestDaemon {
  daemon: Daemon;
  simulator: Simulator;
  dataDir: string;
  smtpPort: number;
  httpUrl: string;
  stop(): Promise<void>;
}

export interface TestDaemonOptions {
  /** Extra YAML for the config file (data_dir and listeners are set by the helper). */
  yaml?: string;
  /** Extra keys inside the `smtp:` section (the helper writes that section), e.g. `trusted_relays: []`. */
  smtpYaml?: string;
  /** Environment overrides, e.g. { FAXBRIDGE_RECEIPTS__ON_ACCEPTED: 'true' }. */
  env?: Record<string, string>;
  /** Reuse a simulator (several daemons, or a test that configures it first). */
  simulator?: Simulator;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  /**
   * Production mode against the simulator: an API key, the simulator's public key, a connection id and an
   * explicit `http.public_url` on a free HTTP port picked beforehand (a given public_url is used as is, so
   * port 0 cannot be). The yaml must still list `senders`. `env` overrides any of these.
   */
  production?: boolean;
  /** Test knob passed to startDaemon: base backoff (ms) before resending a mail the relay deferred. */
  outboxBackoffMs?: number;
  /** Passed to startDaemon: a clock the test moves (per-sender limits, retention). */
  clock?: DaemonOptions['clock'];
  /** Passed to startDaemon: DNS answers for SPF/DKIM/DMARC from a table. */
  dnsResolver?: DaemonOptions['dnsResolver'];
  /** Worker poll interval (default 100 ms); a long one shows what wakes a worker without polling. */
  pollMs?: number;
  /** Passed to startDaemon: how often recorded webhook events are swept (default 5 s). */
  eventSweepMs?: number;
  /** Passed to startDaemon: how long jobs are held back while mail arrives (jobs/intakeFirst.ts). */
  intakeHold?: DaemonOptions['intakeHold'];
  /** Passed to startDaemon: the MIME readers' stall and idle times, count and heap (documents/mimeReaders). */
  mimeReaders?: DaemonOptions['mimeReaders'];
  /** Where the daemon's log lines go (debug level), for tests that read them; else FB_TEST_LOG or nowhere. */
  logDestination?: DestinationStream;
}

/**
 * A real daemon in this process on free ports, in sandbox mode against a real simulator over HTTP, with its
 * own data dir. Only Telnyx is simulated; SMTP, HTTP, SQLite and the disk are the real thing.
 */
export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'fb-daemon-'));
  const file = path.join(dataDir, 'faxbridge.yaml');
  const ownSimulator = !options.simulator;
  const simulator = options.simulator ?? (await startSimulator({ timing: { stepMs: 20 } }));
  const env = options.production
    ? { ...(await productionEnv(simulator)), ...options.env }
    : (options.env ?? {});
  writeFileSync(
    file,
    `data_dir: ${JSON.stringify(dataDir)}\nsmtp:\n  listen: 127.0.0.1:0\n${indent(options.smtpYaml)}http:\n  listen: 127.0.0.1:0\n${options.yaml ?? ''}`,
  );
  const { config } = loadConfig(file, env);
  const daemon = await startDaemon({
    config,
    // FB_TEST_LOG=/path/file.log keeps the daemon's log lines for debugging a test.
    log: options.logDestination
      ? makeLogger({ level: 'debug' }, options.logDestination)
      : process.env.FB_TEST_LOG
        ? makeLogger({ level: 'debug' }, pino.destination({ dest: process.env.FB_TEST_LOG, sync: true }))
        : makeSilentLogger(),
    telnyx: { apiUrl: simulator.url, apiKey: config.telnyx.api_key ?? '', publicKey: simulator.publicKey },
    pollMs: options.pollMs ?? 100,
    outboxBackoffMs: options.outboxBackoffMs,
    clock: options.clock,
    dnsResolver: options.dnsResolver,
    intakeHold: options.intakeHold,
    eventSweepMs: options.eventSweepMs,
    mimeReaders: options.mimeReaders,
  });
  return {
    daemon,
    simulator,
    dataDir,
    smtpPort: daemon.smtp.address().port,
    httpUrl: daemon.http.url,
    async stop() {
      await daemon.stop(2000);
      if (ownSimulator) await simulator.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Lines of `text` indented two spaces, each ending in a newline ('' for none). */
function indent(text: string | undefined): string {
  if (!text) return '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `  ${line}\n`)
    .join('');
}

/** The settings that turn sandbox mode off, pointing at the simulator (see `production`). */
async function productionEnv(simulator: Simulator): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    TELNYX_API_URL: simulator.url,
    TELNYX_API_KEY: 'test-api-key',
    TELNYX_PUBLIC_KEY: simulator.publicKey,
    TELNYX_CONNECTION_ID: '1',
    FAXBRIDGE_HTTP__LISTEN: `127.0.0.1:${port}`,
    FAXBRIDGE_HTTP__PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
}

export interface SmtpOutcome {
  ok: boolean;
  /** The server's final reply line, e.g. `250 2.0.0 Queued …` or `550 5.6.0 …`. */
  response: string;
  code: number;
  accepted: string[];
  rejected: string[];
  rejectedResponses: string[];
}

/** Sends one message with nodemailer over real SMTP and reports what the server answered. */
export async function sendMail(port: number, message: SendMailOptions): Promise<SmtpOutcome> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail(message);
    return {
      ok: true,
      response: info.response,
      code: Number(info.response.slice(0, 3)),
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
      rejectedResponses: (info.rejectedErrors ?? []).map(
        (e: Error & { response?: string }) => e.response ?? '',
      ),
    };
  } catch (thrown) {
    const error = thrown as Error & {
      response?: string;
      responseCode?: number;
      rejected?: string[];
      rejectedErrors?: Array<Error & { response?: string }>;
    };
    return {
      ok: false,
      response: error.response ?? error.message,
      code: error.responseCode ?? 0,
      accepted: [],
      rejected: (error.rejected ?? []).map(String),
      rejectedResponses: (error.rejectedErrors ?? []).map((e) => e.response ?? ''),
    };
  } finally {
    transport.close();
  }
}

/** Polls until `check` returns a truthy value (tests await outcomes instead of sleeping fixed times). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
