import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type DaemonProcess, makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import {
  adminQuery,
  postgresReachable,
  type PostgresSchema,
  TEST_POSTGRES_URL,
  withPostgres,
} from '../helpers/postgres.js';
import { type LocalS3, startLocalS3 } from '../helpers/s3rver.js';
import { freePort, waitFor } from '../helpers/testDaemon.js';
import { startTestRelay, type TestRelay } from '../helpers/testRelay.js';

/*
 * Two daemon processes on one PostgreSQL schema and one S3 bucket (s3rver) share 100 faxes
 * submitted over both SMTP listeners. Exactly 100 faxes reach Telnyx (the simulator, in this process) and
 * exactly 100 receipts reach the relay, also when one daemon is SIGKILLed in the middle (docs/behaviour.md
 * §4, §9). PostgreSQL only: SQLite is for one instance. Skips when PostgreSQL is down locally; fails with
 * CI=true.
 */

const postgresUp = await postgresReachable();
if (!postgresUp) {
  console.warn(
    `multiInstance.test.ts skipped: PostgreSQL is not reachable at ${TEST_POSTGRES_URL} (CI=true fails)`,
  );
}

const API_KEY = 'multi-instance-key';
const CONNECTION_ID = '1';
const SENDER = 'alice@example.com';
const FAXES = 100;
const URL_SECRET = 'multi-instance-url-secret-0123456789';
const number = (i: number) => `+1555700${String(i).padStart(4, '0')}`;
/** Leases of jobs and mails (production: one minute), so that the takeover after a SIGKILL takes seconds. */
const LEASE_MS = 10_000;

interface Instance {
  name: string;
  smtpPort: number;
  httpPort: number;
  url: string;
  dir: string;
  daemon: DaemonProcess;
}

interface Forwarded {
  method: string;
  path: string;
  target: string;
  status: number;
}

/** A request parked by `hold()`; `gone` once its client hung up (the daemon that sent it was killed). */
interface Parked {
  method: string;
  path: string;
  body: Buffer;
  gone: boolean;
  forward(): void;
}

/**
 * A tiny HTTP forwarder: round robin over `targets`, trying the next one when a target refuses the connection
 * (what a load balancer's health check achieves). `hold()` parks requests until `release()`.
 */
interface Forwarder {
  url: string;
  log: Forwarded[];
  parked(): Parked[];
  hold(): void;
  /** Forwards what is parked: all live requests, and the first `forwardGone` of those whose client is gone. */
  release(options?: { forwardGone?: number }): void;
  close(): Promise<void>;
}

async function startForwarder(targets: string[]): Promise<Forwarder> {
  const log: Forwarded[] = [];
  let next = 0;
  let held: Parked[] | null = null;

  function attempt(target: string, req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> {
    const url = new URL(req.url ?? '/', target);
    return new Promise((resolve, reject) => {
      const out = http.request(
        url,
        { method: req.method, headers: { ...req.headers, host: url.host } },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const first = next++ % targets.length;
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(first + i) % targets.length]!;
      let answer: http.IncomingMessage;
      try {
        answer = await attempt(target, req, body);
      } catch {
        continue; // refused or reset: this backend is down, try the next one
      }
      log.push({ method: req.method ?? '', path: req.url ?? '', target, status: answer.statusCode ?? 0 });
      if (res.destroyed) {
        answer.resume(); // the client is gone (killed): the request still had its effect upstream
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      return;
    }
    log.push({ method: req.method ?? '', path: req.url ?? '', target: '', status: 502 });
    if (!res.destroyed) res.writeHead(502).end();
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const go = () => void forward(req, res, body);
      if (!held) return go();
      const parked: Parked = {
        method: req.method ?? '',
        path: req.url ?? '',
        body,
        gone: false,
        forward: go,
      };
      res.on('close', () => {
        if (!res.writableEnded) parked.gone = true;
      });
      held.push(parked);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    parked: () => [...(held ?? [])],
    hold: () => (held ??= []),
    release(options = {}) {
      const waiting = held ?? [];
      held = null;
      let forwardGone = options.forwardGone ?? Infinity;
      for (const parked of waiting) {
        if (!parked.gone) parked.forward();
        else if (forwardGone-- > 0) parked.forward();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP pass-through in front of the mail relay that can stall every connection (bytes are queued, in order,
 * until `release()`), so that each instance is caught holding a claimed outbox row in the middle of a send.
 */
interface TcpGate {
  port: number;
  url: string;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

async function startTcpGate(targetPort: number): Promise<TcpGate> {
  let held = false;
  let queued: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        const pass = () => void (to.destroyed || to.write(chunk));
        if (held) queued.push(pass);
        else pass();
      });
      from.on('error', end);
      from.on('close', () => {
        sockets.delete(from);
        end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    hold: () => void (held = true),
    release() {
      held = false;
      const waiting = queued;
      queued = [];
      for (const pass of waiting) pass();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What both instances share: Telnyx (the simulator), the mail relay, the bucket and the database schema. */
interface Shared {
  simulator: Simulator;
  relay: TestRelay;
  s3: LocalS3;
  db: PostgresSchema;
}

describe.skipIf(!postgresUp)('two daemon processes on one PostgreSQL and one S3 bucket', () => {
  const pool = makeDaemonProcessPool();
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    await pool.killAll();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** The Telnyx side first (simulator, relay, bucket, schema), then two daemons sharing all of it. */
  async function startShared(): Promise<Shared> {
    const simulator = await startSimulator({ apiKey: API_KEY, connectionId: CONNECTION_ID });
    cleanups.push(() => simulator.close());
    const relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const s3 = await startLocalS3('faxbridge-multi');
    cleanups.push(() => s3.close());
    const db = await withPostgres();
    cleanups.push(() => db.drop());
    return { simulator, relay, s3, db };
  }

  async function reservePorts(name: string) {
    const dir = mkdtempSync(path.join(tmpdir(), `fb-multi-${name}-`));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const smtpPort = await freePort();
    const httpPort = await freePort();
    return { name, dir, smtpPort, httpPort, url: `http://127.0.0.1:${httpPort}` };
  }

  async function startInstance(
    shared: Shared,
    ports: Awaited<ReturnType<typeof reservePorts>>,
    options: { publicUrl: string; telnyxApiUrl: string; smtpUrl?: string },
  ): Promise<Instance> {
    const { relay, s3, db } = shared;
    const yaml = productionYaml({
      dataDir: ports.dir,
      smtpPort: ports.smtpPort,
      httpPort: ports.httpPort,
      telnyxApiUrl: options.telnyxApiUrl,
      telnyxApiKey: API_KEY,
      telnyxPublicKey: shared.simulator.publicKey,
      extra: [
        // One sender submits all 100: the production default of 60 faxes an hour would refuse the rest.
        'limits: { faxes_per_hour: 0, pages_per_day: 0 }',
        'mail:',
        '  from: "Fax <fax@fax.example.com>"',
        `  smtp_url: ${options.smtpUrl ?? relay.url}`,
        'storage:',
        '  driver: s3',
        '  url_ttl: 1h',
        '  s3:',
        `    bucket: ${s3.bucket}`,
        '    prefix: shared',
        `    endpoint: ${s3.endpoint}`,
        '    force_path_style: true',
        '    region: us-east-1',
        'database:',
        `  url: ${JSON.stringify(db.url)}`,
        '',
      ].join('\n'),
    });
    const daemon = await pool.start({
      dir: ports.dir,
      yaml,
      env: {
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // The same secret on every instance, so a link signed by one is honoured by the other (README).
        FAXBRIDGE_HTTP__URL_SECRET: URL_SECRET,
        FAXBRIDGE_HTTP__PUBLIC_URL: options.publicUrl,
        FB_TEST_LEASE_MS: String(LEASE_MS),
        // Four calls to Telnyx at once per instance: eight POSTs parked in the API gate are then four of each,
        // whatever the pace of each instance (the SIGKILL case needs four of the victim's in flight).
        FAXBRIDGE_TELNYX__CONCURRENCY: '4',
      },
    });
    return { ...ports, daemon };
  }

  /** 100 mails, one PDF each, alternating between the SMTP listeners; every one must get its 250. */
  async function submitFaxes(instances: Instance[]): Promise<void> {
    const transports = instances.map((instance) =>
      nodemailer.createTransport({
        pool: true,
        maxConnections: 4,
        host: '127.0.0.1',
        port: instance.smtpPort,
        secure: false,
        ignoreTLS: true,
      }),
    );
    try {
      const pdf = await makePdf(1, { label: 'multi-instance' });
      const replies = await Promise.all(
        Array.from({ length: FAXES }, (_, i) =>
          transports[i % transports.length]!.sendMail({
            from: SENDER,
            to: `${number(i)}@fax.example.com`,
            subject: `multi-instance ${i}`,
            text: 'fax this',
            messageId: `<multi-${i}@example.com>`,
            attachments: [{ filename: `doc-${i}.pdf`, content: pdf, contentType: 'application/pdf' }],
          }),
        ),
      );
      for (const reply of replies) expect(reply.response).toMatch(/^250 2\.0\.0 Queued /);
    } finally {
      for (const transport of transports) transport.close();
    }
  }

  const postsOf = (simulator: Simulator) =>
    simulator.requests().filter((r) => r.method === 'POST' && r.path === '/v2/faxes');

  /** Every fax POSTed once, to distinct numbers covering all 100, its document fetched from the bucket. */
  function expectOnePostPerJob({ simulator, s3 }: Shared): void {
    const posts = postsOf(simulator);
    const tos = posts.map((r) => (r.body as { to?: string }).to);
    expect(posts).toHaveLength(FAXES);
    expect(new Set(tos).size).toBe(FAXES);
    expect(new Set(tos)).toEqual(new Set(Array.from({ length: FAXES }, (_, i) => number(i))));
    const outbound = simulator.faxes().filter((fax) => fax.direction === 'outbound');
    expect(outbound).toHaveLength(FAXES);
    expect(outbound.every((fax) => fax.status === 'delivered')).toBe(true);
    const presigned = `${s3.endpoint}/${s3.bucket}/shared/`;
    expect(
      outbound.filter((fax) => !fax.mediaUrl?.startsWith(presigned) || fax.media?.httpStatus !== 200),
    ).toEqual([]);
  }

  /** One delivered receipt per job, replying to its mail; returns how many copies were resent. */
  function checkReceipts(relay: TestRelay): number {
    const ids = relay.messages.map((m) => m.parsed.messageId);
    const unique = new Set(ids);
    expect(unique.size).toBe(FAXES);
    const subjects = new Set(relay.messages.map((m) => m.parsed.subject));
    expect(subjects).toEqual(
      new Set(Array.from({ length: FAXES }, (_, i) => `Fax to ${number(i)} delivered (1 page)`)),
    );
    const replies = new Set(relay.messages.map((m) => m.parsed.inReplyTo));
    expect(replies).toEqual(new Set(Array.from({ length: FAXES }, (_, i) => `<multi-${i}@example.com>`)));
    // A resend (after a crash between the relay's 250 and the row marked sent) is the same mail, byte for
    // byte in its Message-ID (docs/behaviour.md §4); only the instance killed mid-send can cause one.
    for (const id of unique) {
      const copies = relay.messages.filter((m) => m.parsed.messageId === id);
      expect(new Set(copies.map((m) => m.parsed.subject)).size).toBe(1);
    }
    return ids.length - unique.size;
  }

  async function expectSettledInDatabase(db: PostgresSchema): Promise<void> {
    const jobs = await adminQuery<{ status: string; n: string }>(
      `SELECT status, count(*)::text AS n FROM ${db.schema}.jobs GROUP BY 1`,
    );
    expect(jobs).toEqual([{ status: 'delivered', n: String(FAXES) }]);
    // No live lease is left behind (a dead instance's lease on a job its webhooks finished is merely expired).
    const leased = await adminQuery<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${db.schema}.jobs WHERE lease_until > $1`,
      [Date.now()],
    );
    expect(leased[0]?.n).toBe('0');
    const attempts = await adminQuery<{ state: string; n: string }>(
      `SELECT state, count(*)::text AS n FROM ${db.schema}.attempts GROUP BY 1`,
    );
    expect(attempts).toEqual([{ state: 'delivered', n: String(FAXES) }]);
    const outbox = await adminQuery<{ status: string; n: string }>(
      `SELECT status, count(*)::text AS n FROM ${db.schema}.outbox GROUP BY 1`,
    );
    expect(outbox).toEqual([{ status: 'sent', n: String(FAXES) }]);
  }

  /** "Exactly" means it stays so: nothing more arrives for a while after the last receipt. */
  async function settle(shared: Shared, ms = 3_000): Promise<void> {
    const posts = postsOf(shared.simulator).length;
    const mails = shared.relay.messages.length;
    await new Promise((resolve) => setTimeout(resolve, ms));
    expect(postsOf(shared.simulator).length).toBe(posts);
    expect(shared.relay.messages.length).toBe(mails);
  }

  it('every webhook answered by the other instance: 100 faxes, 100 sends, 100 receipts', async () => {
    const started = Date.now();
    const shared = await startShared();
    const a = await reservePorts('a');
    const b = await reservePorts('b');
    // Cross-wired public URLs: each fax's webhook_url names the instance that did NOT send it, so every
    // single event is recorded and acted on by the instance that does not hold the job.
    const instances = await Promise.all([
      startInstance(shared, a, { publicUrl: b.url, telnyxApiUrl: shared.simulator.url }),
      startInstance(shared, b, { publicUrl: a.url, telnyxApiUrl: shared.simulator.url }),
    ]);
    await submitFaxes(instances);
    await waitFor(() => shared.relay.messages.length >= FAXES, 90_000, '100 receipts');
    await settle(shared);
    const elapsed = Date.now() - started;

    expectOnePostPerJob(shared);
    expect(checkReceipts(shared.relay)).toBe(0);
    expect(shared.relay.messages).toHaveLength(FAXES);
    await expectSettledInDatabase(shared.db);

    // Both instances sent (the webhook_url tells which one: the other one's URL) ...
    const sentBy = new Map<string, number>();
    for (const post of postsOf(shared.simulator)) {
      const hook = (post.body as { webhook_url: string }).webhook_url;
      sentBy.set(hook, (sentBy.get(hook) ?? 0) + 1);
    }
    expect(sentBy.get(`${b.url}/webhooks/telnyx`)).toBeGreaterThan(0);
    expect(sentBy.get(`${a.url}/webhooks/telnyx`)).toBeGreaterThan(0);
    // ... and every webhook went to the other instance and was taken with a 200.
    const deliveries = shared.simulator.deliveries();
    expect(deliveries.length).toBeGreaterThanOrEqual(FAXES * 4);
    expect(deliveries.filter((d) => d.status !== 200)).toEqual([]);
    console.info(
      `multi-instance (cross-wired): ${elapsed} ms; sent by A ${sentBy.get(`${b.url}/webhooks/telnyx`)}, ` +
        `by B ${sentBy.get(`${a.url}/webhooks/telnyx`)}; ${postsOf(shared.simulator).length} POST /faxes; ` +
        `${deliveries.length} webhooks; ${shared.relay.messages.length} receipts`,
    );
  }, 300_000);

  it('SIGKILL one instance in the middle: the survivor finishes, still exactly once', async () => {
    const started = Date.now();
    const shared = await startShared();
    const { simulator, relay, db } = shared;
    // Telnyx answers each POST /faxes after 300 ms (the fax exists at once), so the sends take a few seconds.
    simulator.injectResponses(
      'POST /faxes',
      Array.from({ length: FAXES }, () => ({ afterCreate: true, hangMs: 300 })),
    );
    // Every Telnyx call passes a gate the test can close: closed until all 100 mails were accepted (an SMTP
    // session cut by the kill could not tell whether its mail was taken, and a resubmission is a second job),
    // and closed again to catch the victim with each of its worker slots mid-POST.
    const apiGate = await startForwarder([new URL(simulator.url).origin]);
    cleanups.push(() => apiGate.close());
    const a = await reservePorts('a');
    const b = await reservePorts('b');
    // The load balancer in front of both: Telnyx reaches whichever instance is up.
    const balancer = await startForwarder([a.url, b.url]);
    cleanups.push(() => balancer.close());
    // And the relay behind a TCP gate, to catch each instance in the middle of sending a receipt.
    const mailGate = await startTcpGate(relay.port);
    cleanups.push(() => mailGate.close());
    const settings = { publicUrl: balancer.url, telnyxApiUrl: `${apiGate.url}/v2`, smtpUrl: mailGate.url };
    const [survivor, victim] = await Promise.all([
      startInstance(shared, a, settings),
      startInstance(shared, b, settings),
    ]);

    apiGate.hold();
    await submitFaxes([survivor, victim]);
    expect(postsOf(simulator)).toHaveLength(0);
    // The relay stalls from the start: each instance's outbox gets stuck in its first send, holding a leased
    // receipt, while the rest queue up (well inside nodemailer's 30 s greeting timeout).
    mailGate.hold();
    apiGate.release();
    await waitFor(() => postsOf(simulator).length >= 30, 30_000, '30 faxes sent');

    // Close the API gate until both instances' four worker slots wait in it, each with a leased job whose
    // attempt is recorded as "posting"; then kill one instance.
    apiGate.hold();
    const parkedPosts = () => apiGate.parked().filter((p) => p.method === 'POST' && p.path === '/v2/faxes');
    await waitFor(() => parkedPosts().length >= 8, 10_000, 'every worker slot waiting in the gate');
    const leasedMail = await waitFor(
      async () => {
        const rows = await adminQuery<{ id: string; lease_owner: string; lease_until: string }>(
          `SELECT id, lease_owner, lease_until::text FROM ${db.schema}.outbox
           WHERE status = 'pending' AND lease_owner IS NOT NULL`,
        );
        return new Set(rows.map((row) => row.lease_owner)).size === 2 ? rows : null;
      },
      15_000,
      'a receipt leased by each instance',
    );
    expect(leasedMail).toHaveLength(2);
    await victim.daemon.kill('SIGKILL');
    const killedAt = Date.now();
    const postsAtKill = postsOf(simulator).length;
    // Every job's lease as the victim left it (nobody can take a live lease over for seconds yet).
    const leaseAtKill = new Map(
      (
        await adminQuery<{ to_number: string; lease_until: string | null }>(
          `SELECT to_number, lease_until::text FROM ${db.schema}.jobs`,
        )
      ).map((row) => [row.to_number, Number(row.lease_until)]),
    );
    const queued = await adminQuery<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${db.schema}.jobs WHERE status = 'queued' AND lease_owner IS NULL`,
    );
    expect(Number(queued[0]?.n)).toBeGreaterThan(0);
    const orphans = await waitFor(
      () => {
        const gone = parkedPosts().filter((p) => p.gone);
        return gone.length >= 4 ? gone : null;
      },
      5_000,
      "the victim's four POSTs to lose their client",
    );
    const toOf = (p: Parked) => (JSON.parse(p.body.toString('utf8')) as { to: string }).to;
    // Two of the victim's POSTs reach Telnyx after all (sent, answer lost): their webhooks reach the survivor
    // through the balancer. Two never do: those jobs wait for the lease to run out, then the survivor checks
    // GET /faxes, finds nothing, and sends them.
    const answerLost = orphans.slice(0, 2).map(toOf);
    const neverSent = orphans.slice(2).map(toOf);
    apiGate.release({ forwardGone: 2 });
    mailGate.release();

    await waitFor(() => relay.messages.length >= FAXES, 110_000, '100 receipts');
    await settle(shared);
    const elapsed = Date.now() - started;

    expectOnePostPerJob(shared);
    const resent = checkReceipts(relay);
    // Only a mail the victim was handing to the relay at the kill may go out twice (same Message-ID).
    expect(resent).toBeLessThanOrEqual(1);
    await expectSettledInDatabase(db);
    const postFor = (to: string) => postsOf(simulator).find((r) => (r.body as { to: string }).to === to)!;
    for (const to of answerLost) expect(postFor(to).at).toBeLessThan(killedAt + 5_000);
    // Taken over only once the victim's lease ran out (LEASE_MS from its last renewal), never before.
    const takeoverAfterMs = neverSent.map((to) => postFor(to).at - killedAt);
    for (const to of neverSent) expect(postFor(to).at).toBeGreaterThanOrEqual(leaseAtKill.get(to)!);
    // The survivor's stalled receipt went out once the gate opened; the victim's after its outbox lease.
    const mailSent = await adminQuery<{ id: string; sent_at: string }>(
      `SELECT id, sent_at::text FROM ${db.schema}.outbox WHERE id = ANY($1) ORDER BY sent_at`,
      [leasedMail.map((row) => row.id)],
    );
    const mailSentAfterMs = mailSent.map((row) => Number(row.sent_at) - killedAt);
    expect(mailSentAfterMs[0]).toBeLessThan(10_000);
    const victimsMail = leasedMail.find((row) => row.id === mailSent[1]!.id)!;
    expect(Number(mailSent[1]!.sent_at)).toBeGreaterThanOrEqual(Number(victimsMail.lease_until));
    const lookups = simulator.requests().filter((r) => r.method === 'GET' && r.path === '/v2/faxes');
    for (const to of neverSent) {
      expect(lookups.some((r) => r.query['filter[to][eq]'] === to)).toBe(true);
    }
    // After the kill every webhook reached the survivor through the balancer and was answered 200.
    expect(simulator.deliveries().filter((d) => d.status !== 200)).toEqual([]);
    expect(balancer.log.filter((hit) => hit.status !== 200)).toEqual([]);
    console.info(
      `multi-instance (SIGKILL): ${elapsed} ms in all, ${Date.now() - killedAt} ms after the kill; ` +
        `${postsAtKill} POST /faxes at the kill, ${postsOf(simulator).length} in all; victim's orphaned ` +
        `jobs sent by the survivor ${takeoverAfterMs.join(', ')} ms after the kill; ${lookups.length} GET ` +
        `/faxes; receipts leased at the kill sent ${mailSentAfterMs.join(', ')} ms after it; ` +
        `${relay.messages.length} receipts (${resent} resent with the same Message-ID)`,
    );
  }, 300_000);
});
