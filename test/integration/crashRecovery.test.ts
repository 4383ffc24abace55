import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { freePort, sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Exactly once across crashes (docs/behaviour.md §4): the daemon runs as a child process
 * in production mode against a simulator in this process, is SIGKILLed at the awkward moment, and restarted
 * on the same data dir.
 */

const SENDER = 'alice@example.com';
const API_KEY = 'crash-test-key';

interface JobSnapshot {
  id: string;
  status: string;
  api_errors: number;
  lease_owner: string | null;
}

/** Reads the daemon's jobs table the way an operator would: read-only, beside the running daemon (WAL). */
function readJobs(dataDir: string): JobSnapshot[] {
  const file = path.join(dataDir, 'faxbridge.db');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, status, api_errors, lease_owner FROM jobs').all() as JobSnapshot[];
  } finally {
    db.close();
  }
}

function receiptsIn(dataDir: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.eml'))
      .map((name) => readFileSync(path.join(dir, name), 'utf8'));
  } catch {
    return [];
  }
}

const postsTo = (simulator: Simulator, to: string) =>
  simulator
    .requests()
    .filter(
      (r) =>
        r.method === 'POST' && r.path === '/v2/faxes' && (r.body as { to?: string } | undefined)?.to === to,
    );

/** Proves "exactly one" is not just "one so far": the count must hold for a while after it was reached. */
async function expectStaysOne(simulator: Simulator, to: string, forMs = 2000): Promise<void> {
  const deadline = Date.now() + forMs;
  while (Date.now() < deadline) {
    expect(simulator.faxes().filter((fax) => fax.to === to)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('crash recovery with the daemon as a child process', () => {
  const pool = makeDaemonProcessPool();
  let simulator: Simulator;
  let dataDir: string;
  let smtpPort: number;
  let httpPort: number;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, timing: { stepMs: 20 } });
  });
  afterAll(async () => {
    await pool.killAll();
    await simulator?.close();
  });
  afterEach(async () => {
    await pool.killAll();
    simulator.webhookMode('normal');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function freshDaemonDir(): Promise<void> {
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-crash-'));
    smtpPort = await freePort();
    httpPort = await freePort();
  }

  const yaml = (telnyxApiUrl: string) =>
    productionYaml({
      dataDir,
      smtpPort,
      httpPort,
      telnyxApiUrl,
      telnyxApiKey: API_KEY,
      telnyxPublicKey: simulator.publicKey,
    });

  async function sendFaxMail(to: string): Promise<void> {
    const result = await sendMail(smtpPort, {
      from: SENDER,
      to: `${to}@fax.example.com`,
      subject: 'crash test',
      text: 'fax this',
      attachments: [{ filename: 'doc.pdf', content: await makePdf(2), contentType: 'application/pdf' }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued [A-Za-z0-9_-]{8,40} \+\d+$/);
  }

  it('SIGKILL after the 250 and before the send: the restarted daemon sends the fax exactly once', async () => {
    await freshDaemonDir();
    const to = '+15552000001';
    // Telnyx unreachable (nothing listens there): the send fails before any byte reaches it.
    const closedUrl = `http://127.0.0.1:${await freePort()}/v2`;
    const first = await pool.start({ dir: dataDir, yaml: yaml(closedUrl) });
    await sendFaxMail(to);
    await waitFor(
      () => readJobs(dataDir).find((job) => job.api_errors >= 1 && job.lease_owner === null),
      20_000,
      'a failed, released send attempt',
    );
    await first.kill('SIGKILL');
    expect(postsTo(simulator, to)).toHaveLength(0);

    await pool.start({ dir: dataDir, yaml: yaml(simulator.url) });
    await waitFor(() => simulator.faxes().find((fax) => fax.to === to), 30_000, 'the fax after restart');
    await expectStaysOne(simulator, to);
    expect(postsTo(simulator, to)).toHaveLength(1);
    await waitFor(() => readJobs(dataDir).find((job) => job.status === 'delivered'), 20_000, 'job delivered');
  }, 90_000);

  it('SIGKILL after Telnyx created the fax but before its answer was recorded: reconciled, not resent', async () => {
    await freshDaemonDir();
    const to = '+15552000002';
    // The fax is created but the 202 never arrives, and no webhook tells either daemon (a late fax.delivered
    // would settle the job without any reconciling): only GET /faxes can.
    simulator.webhookMode('drop');
    simulator.injectResponses('POST /faxes', [{ afterCreate: true, hangMs: 30_000 }]);
    const first = await pool.start({ dir: dataDir, yaml: yaml(simulator.url) });
    await sendFaxMail(to);
    // Kill only once Telnyx has fetched the document: a kill before that fails the fax with
    // file_download_failed (as Telnyx would), which is a retry, not this scenario.
    await waitFor(
      () => simulator.faxes().find((fax) => fax.to === to && fax.media?.sha256),
      20_000,
      'fax created at Telnyx and its media fetched',
    );
    await first.kill('SIGKILL');

    // The restarted daemon frees the dead one's leases as it starts (one daemon owns a SQLite file), so the
    // job is taken up at once; its attempt is still "posting", so the worker asks GET /faxes before any resend.
    await pool.start({ dir: dataDir, yaml: yaml(simulator.url) });
    await waitFor(
      () => readJobs(dataDir).find((job) => job.status === 'delivered'),
      170_000,
      'job delivered after reconciling',
    );
    expect(postsTo(simulator, to)).toHaveLength(1);
    expect(
      simulator
        .requests()
        .some((r) => r.method === 'GET' && r.path === '/v2/faxes' && r.query['filter[to][eq]'] === to),
    ).toBe(true);
    await expectStaysOne(simulator, to);
    const receipt = await waitFor(
      () => receiptsIn(dataDir).find((eml) => eml.includes('+15552000002') && /deliver/i.test(eml)),
      20_000,
      'delivery receipt in the outbox',
    );
    expect(receipt).toMatch(/^To: .*alice@example\.com/im);
  }, 240_000);
});

describe('uncertain and rate-limited answers from Telnyx (in-process daemon)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon();
  });
  afterAll(async () => {
    await env?.stop();
  });
  afterEach(() => env.simulator.webhookMode('normal'));

  const sendOne = async (to: string) => {
    const result = await sendMail(env.smtpPort, {
      from: SENDER,
      to: `${to}@fax.localhost`,
      subject: 'retry test',
      text: 'fax this',
      attachments: [{ filename: 'doc.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const jobId = /Queued (\S+) /.exec(result.response)![1]!;
    return jobId;
  };

  it('429 twice, then 202: one fax, not three, waiting as x-ratelimit-reset asks', async () => {
    const to = '+15552000003';
    // The simulator's 429 carries x-ratelimit-reset: 1 (seconds), as Telnyx's does.
    env.simulator.injectResponses('POST /faxes', [{ status: 429 }, { status: 429 }]);
    const jobId = await sendOne(to);
    await waitFor(() => env.simulator.faxes().find((fax) => fax.to === to), 20_000, 'fax after two 429s');
    await expectStaysOne(env.simulator, to);
    const posts = postsTo(env.simulator, to);
    expect(posts.map((r) => r.status)).toEqual([429, 429, 202]);
    // Honoured the 1 s reset each time, and did not wait the 5 s API backoff instead.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(posts[2]!.at - posts[1]!.at).toBeGreaterThanOrEqual(900);
    expect(posts[2]!.at - posts[0]!.at).toBeLessThan(5000);
    const job = await waitFor(async () => {
      const row = await env.daemon.store.getJob(jobId);
      return row?.status === 'delivered' ? row : null;
    });
    expect(job.attempt).toBe(1);
  });

  it('an uncertain 500 after the fax was created: reconciled with GET /faxes, exactly one fax', async () => {
    const to = '+15552000004';
    // No webhooks either, so only the reconciliation can find the fax.
    env.simulator.webhookMode('drop');
    env.simulator.injectResponses('POST /faxes', [{ afterCreate: true, status: 500 }]);
    const jobId = await sendOne(to);
    const job = await waitFor(
      async () => {
        const row = await env.daemon.store.getJob(jobId);
        return row?.status === 'delivered' ? row : null;
      },
      30_000,
      'job delivered after reconciling',
    );
    expect(job.attempt).toBe(1);
    const posts = postsTo(env.simulator, to);
    expect(posts.map((r) => r.status)).toEqual([500]);
    expect(
      env.simulator
        .requests()
        .some((r) => r.method === 'GET' && r.path === '/v2/faxes' && r.query['filter[to][eq]'] === to),
    ).toBe(true);
    await expectStaysOne(env.simulator, to);
  });
});
