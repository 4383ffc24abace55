import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { makeLocalStorage } from '../../src/blobs/localStorage.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { systemClock } from '../../src/lib/clock.js';
import { makeUrlSigner } from '../../src/lib/urlSigner.js';
import { makeSilentLogger } from '../../src/log.js';
import { makeMailer } from '../../src/mail/mailer.js';
import { drainOutbox } from '../../src/mail/outboxWorker.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import type { JobStore } from '../../src/store/jobStore.js';
import { openStore } from '../../src/store/openStore.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';
import { type RelayedMail, startTestRelay, type TestRelay } from '../helpers/testRelay.js';

/**
 * Receipts end to end (docs/behaviour.md §4–§6): real SMTP in, the simulator as Telnyx over HTTP with signed
 * webhooks, and every receipt read back from a real SMTP relay started here.
 */
const MAIL_FROM = 'Fax Gateway <gateway@fax.localhost>';
const MAIL_FROM_ADDRESS = 'gateway@fax.localhost';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const relayYaml = (relay: TestRelay, extra = '') =>
  `mail:\n  from: "${MAIL_FROM}"\n  smtp_url: ${relay.url}\n${extra}`;

/** Sends one fax request (a PDF to `<number>@fax.localhost`) and returns what SMTP answered. */
async function requestFax(
  env: TestDaemon,
  to: string,
  options: { pages?: number; messageId?: string; subject?: string } = {},
) {
  const pdf = await makePdf(options.pages ?? 1, { label: to });
  const result = await sendMail(env.smtpPort, {
    from: 'Alice Example <alice@example.com>',
    to: `${to}@fax.localhost`,
    subject: options.subject ?? `Fax for ${to}`,
    messageId: options.messageId,
    text: 'Please fax the attached document.',
    attachments: [{ filename: 'letter.pdf', content: pdf, contentType: 'application/pdf' }],
  });
  expect(result.code, result.response).toBe(250);
  return pdf;
}

/** Receipts about the fax to `to` (its number is in every receipt subject). */
const receiptsFor = (relay: TestRelay, to: string): RelayedMail[] =>
  relay.messages.filter((mail) => mail.parsed.subject?.includes(`Fax to ${to} `));

/** Message-ID → how many copies the relay took. */
function countByMessageId(mails: RelayedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of mails)
    counts.set(mail.parsed.messageId ?? '', (counts.get(mail.parsed.messageId ?? '') ?? 0) + 1);
  return counts;
}

/** Every job over, every event acted on, every mail sent: nothing more can arrive after this. */
async function settle(env: TestDaemon, simulator: Simulator): Promise<void> {
  const store = env.daemon.store;
  await waitFor(
    async () => {
      await simulator.waitForIdle();
      const busy =
        (await store.countJobs('queued')) +
        (await store.countJobs('placed')) +
        (await store.countOutbox('pending')) +
        (await store.listUnprocessedEvents(10)).length;
      return busy === 0;
    },
    15_000,
    'daemon idle',
  );
  // Nothing is pending in the outbox or the event table, so a second receipt could only come from a job
  // that is still running, and none is.
}

const postsTo = (simulator: Simulator, to: string) =>
  simulator
    .requests()
    .filter((r) => r.method === 'POST' && r.path === '/v2/faxes' && (r.body as { to?: string })?.to === to);

describe('receipts', () => {
  let simulator: Simulator;
  let relay: TestRelay;
  let env: TestDaemon;

  beforeAll(async () => {
    simulator = await startSimulator({ timing: { stepMs: 20 } });
    relay = await startTestRelay();
    env = await startTestDaemon({
      simulator,
      yaml: relayYaml(relay, 'retry:\n  delays:\n    busy: 100ms\n    no_answer: 100ms\n'),
    });
  });

  afterEach(() => simulator.webhookMode('normal'));

  afterAll(async () => {
    await env?.stop();
    await simulator?.close();
    await relay?.close();
  });

  describe.each(['duplicate', 'reverse'] as const)('with the simulator in %s webhook mode', (mode) => {
    const base = mode === 'duplicate' ? 200 : 300;
    const delivered = `+15551230${base + 1}`;
    const failed = `+15551230${base + 2}`;
    const retried = `+15551230${base + 3}`;

    it('sends exactly one receipt per fax, with the true outcome', async () => {
      simulator.webhookMode(mode);
      simulator.failNumber(failed, 'receiver_unallocated_number');
      simulator.failNumber(retried, ['receiver_no_answer']);
      await requestFax(env, delivered, { pages: 2 });
      await requestFax(env, failed);
      await requestFax(env, retried, { pages: 3 });
      await settle(env, simulator);

      // The mode really was in effect: duplicated event ids, or a final event delivered first.
      const deliveries = simulator.deliveries().filter((d) => d.status === 200);
      const faxIds = simulator
        .faxes()
        .filter((f) => [delivered, failed, retried].includes(f.to))
        .map((f) => f.id);
      expect(faxIds).toHaveLength(4);
      for (const faxId of faxIds) {
        const ofFax = deliveries.filter((d) => d.faxId === faxId);
        if (mode === 'duplicate') {
          expect(ofFax.length).toBe(2 * new Set(ofFax.map((d) => d.eventId)).size);
        } else {
          expect(ofFax[0]!.eventType).toMatch(/^fax\.(delivered|failed)$/);
        }
      }

      const toDelivered = receiptsFor(relay, delivered);
      expect(toDelivered.map((m) => m.parsed.subject)).toEqual([`Fax to ${delivered} delivered (2 pages)`]);
      const toFailed = receiptsFor(relay, failed);
      expect(toFailed.map((m) => m.parsed.subject)).toEqual([
        `Fax to ${failed} failed: the number does not exist`,
      ]);
      const toRetried = receiptsFor(relay, retried);
      expect(toRetried.map((m) => m.parsed.subject)).toEqual([`Fax to ${retried} delivered (3 pages)`]);
      expect(toRetried[0]!.parsed.text).toContain('Attempts (2):');

      for (const mails of [toDelivered, toFailed, toRetried]) {
        expect([...countByMessageId(mails).values()]).toEqual([1]);
      }
    });
  });

  it('user_busy twice, then delivered: one delivered receipt listing 3 attempts, 3 faxes placed', async () => {
    const to = '+15551230401';
    simulator.failNumber(to, ['user_busy', 'user_busy']);
    await requestFax(env, to, { pages: 2 });
    await settle(env, simulator);

    expect(postsTo(simulator, to)).toHaveLength(3);
    const mails = receiptsFor(relay, to);
    expect(mails.map((m) => m.parsed.subject)).toEqual([`Fax to ${to} delivered (2 pages)`]);
    const text = mails[0]!.parsed.text ?? '';
    expect(text).toContain('Attempts (3):');
    expect(text).toMatch(/ 1\. .*failed, .*\(user_busy\)/);
    expect(text).toMatch(/ 2\. .*failed, .*\(user_busy\)/);
    expect(text).toMatch(/ 3\. .*delivered, 2 pages/);
    expect(text).not.toContain(' 4. ');
  });

  it('receiver_unallocated_number: one failed receipt after one attempt, threaded, with the PDF attached', async () => {
    const to = '+15551230501';
    const originalId = '<contract-42@mail.example.com>';
    simulator.failNumber(to, 'receiver_unallocated_number');
    const pdf = await requestFax(env, to, { pages: 3, messageId: originalId, subject: 'Signed contract' });
    await settle(env, simulator);

    expect(postsTo(simulator, to)).toHaveLength(1);
    const mails = receiptsFor(relay, to);
    expect(mails).toHaveLength(1);
    const [receipt] = mails;
    const { parsed } = receipt!;
    expect(parsed.subject).toMatch(new RegExp(`^Fax to \\${to} failed: \\S`));
    expect(parsed.inReplyTo).toBe(originalId);
    expect([parsed.references].flat()).toContain(originalId);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.from?.value[0]?.address).toBe(MAIL_FROM_ADDRESS);
    expect(receipt!.envelopeFrom).toBe(MAIL_FROM_ADDRESS);
    expect(receipt!.rcptTo).toEqual(['alice@example.com']);
    expect(parsed.text).toContain('receiver_unallocated_number');
    expect(parsed.text).toContain('What to do:');
    expect(parsed.text).toContain('Attempts (1):');

    expect(parsed.attachments).toHaveLength(1);
    const [attachment] = parsed.attachments;
    expect(attachment!.contentType).toBe('application/pdf');
    expect(sha256(attachment!.content)).toBe(sha256(pdf));
  });

  it('refuses a null envelope sender for a fax at RCPT, so no job and no receipt exist', async () => {
    const to = '+15551230601';
    const jobsBefore = (await env.daemon.store.listJobs({ limit: 1000 })).length;
    const result = await sendMail(env.smtpPort, {
      envelope: { from: '', to: [`${to}@fax.localhost`] },
      from: 'alice@example.com',
      to: `${to}@fax.localhost`,
      subject: 'From the null sender',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.ok).toBe(false);
    expect(result.code).toBeGreaterThanOrEqual(500);
    // Jobs are stored before a 250 is sent, so after a refusal the job table already says all there is.
    expect((await env.daemon.store.listJobs({ limit: 1000 })).length).toBe(jobsBefore);
    expect(postsTo(simulator, to)).toHaveLength(0);
    expect(receiptsFor(relay, to)).toHaveLength(0);
  });

  it('GET /readyz reports the mail transport as usable', async () => {
    const response = await fetch(`${env.httpUrl}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { checks: Record<string, string> };
    expect(body.checks).toMatchObject({ database: 'ok', storage: 'ok', mail: 'ok' });
  });
});

describe('receipt switches', () => {
  let simulator: Simulator;
  let relay: TestRelay;
  let env: TestDaemon;

  beforeAll(async () => {
    simulator = await startSimulator({ timing: { stepMs: 20 } });
    relay = await startTestRelay();
    env = await startTestDaemon({
      simulator,
      yaml: relayYaml(relay, 'receipts:\n  on_accepted: true\n  on_delivered: false\n'),
    });
  });

  afterAll(async () => {
    await env?.stop();
    await simulator?.close();
    await relay?.close();
  });

  it('on_accepted sends "accepted (N pages)"; on_delivered false sends nothing on delivery', async () => {
    const two = '+15551230701';
    const one = '+15551230702';
    await requestFax(env, two, { pages: 2 });
    await requestFax(env, one, { pages: 1 });
    await settle(env, simulator);

    expect(await env.daemon.store.countJobs('delivered')).toBe(2);
    expect(receiptsFor(relay, two).map((m) => m.parsed.subject)).toEqual([
      `Fax to ${two} accepted (2 pages)`,
    ]);
    expect(receiptsFor(relay, one).map((m) => m.parsed.subject)).toEqual([`Fax to ${one} accepted (1 page)`]);
    expect(relay.messages).toHaveLength(2);
    const accepted = receiptsFor(relay, two)[0]!;
    expect(accepted.parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(accepted.envelopeFrom).toBe(MAIL_FROM_ADDRESS);
    expect(accepted.parsed.attachments).toHaveLength(0);
  });
});

describe('a relay that defers mail', () => {
  let simulator: Simulator;
  let relay: TestRelay;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    simulator = await startSimulator({ timing: { stepMs: 20 } });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await simulator?.close();
  });

  it('421 on MAIL FROM across a restart: the receipt arrives once it recovers, exactly once', async () => {
    relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-receipts-restart-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const options = { simulator, dataDir, yaml: relayYaml(relay), outboxBackoffMs: 50 };
    const to = '+15551230801';

    relay.fail({ stage: 'mail', code: 421 });
    const first = await startTestDaemon(options);
    let firstStopped = false;
    cleanups.push(() => (firstStopped ? undefined : first.stop()));
    await requestFax(first, to, { pages: 2 });
    const [job] = await waitFor(async () => {
      const jobs = await first.daemon.store.listJobs({ status: 'delivered' });
      return jobs.length ? jobs : null;
    });
    // Tried, deferred, tried again: the outbox keeps it while the relay is down.
    await waitFor(() => relay.refusals() >= 3, 10_000, 'three deferred sends');
    expect(await first.daemon.store.countOutbox('pending')).toBe(1);
    expect(relay.messages).toHaveLength(0);

    await first.stop();
    firstStopped = true;
    const refusalsAtStop = relay.refusals();

    const second = await startTestDaemon(options);
    cleanups.push(() => second.stop());
    // The new process picks the pending receipt up from the database and keeps trying.
    await waitFor(() => relay.refusals() > refusalsAtStop, 10_000, 'a deferred send after the restart');
    expect(relay.messages).toHaveLength(0);

    relay.fail(null);
    await waitFor(() => relay.messages.length > 0, 10_000, 'the receipt after recovery');
    // Once the outbox holds nothing pending, every send it will make has been made.
    await waitFor(
      async () => (await second.daemon.store.countOutbox('pending')) === 0,
      10_000,
      'outbox drained',
    );
    expect(relay.messages).toHaveLength(1);
    const [receipt] = relay.messages;
    expect(receipt!.parsed.subject).toBe(`Fax to ${to} delivered (2 pages)`);
    expect(receipt!.parsed.messageId).toContain(job!.id);
    expect(await second.daemon.store.countOutbox('pending')).toBe(0);
    expect(await second.daemon.store.countOutbox('sent')).toBe(1);
    expect(await second.daemon.store.countOutbox('dead')).toBe(0);
  });

  it('451 on RCPT TO: the failed receipt waits and goes out once when the relay accepts again', async () => {
    relay = await startTestRelay();
    cleanups.push(() => relay.close());
    const to = '+15551230802';
    simulator.failNumber(to, 'rejected');
    relay.fail({ stage: 'rcpt', code: 451 });
    const env = await startTestDaemon({ simulator, yaml: relayYaml(relay), outboxBackoffMs: 50 });
    cleanups.push(() => env.stop());

    await requestFax(env, to);
    await waitFor(() => relay.refusals() >= 2, 10_000, 'two deferred sends');
    expect(relay.messages).toHaveLength(0);
    relay.fail(null);
    await settle(env, simulator);
    expect(relay.messages.map((m) => m.parsed.subject)).toEqual([
      `Fax to ${to} failed: the fax service rejected it`,
    ]);
    expect(relay.messages[0]!.parsed.attachments[0]?.contentType).toBe('application/pdf');
  });

  it('GET /readyz is 503 naming the mail transport when the relay cannot be reached', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const env = await startTestDaemon({
      simulator,
      yaml: `mail:\n  smtp_url: smtp://127.0.0.1:${closedPort}\n`,
    });
    cleanups.push(() => env.stop());
    const response = await fetch(`${env.httpUrl}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: Record<string, string> };
    expect(body.checks.database).toBe('ok');
    expect(body.checks.mail).not.toBe('ok');
    expect(body.checks.mail).toMatch(/\S/);
  });
});

describe('the outbox never mails a null sender', () => {
  let relay: TestRelay;
  let store: JobStore;
  let dataDir: string;

  beforeAll(async () => {
    relay = await startTestRelay();
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-receipts-null-'));
    store = await openStore(`sqlite:${path.join(dataDir, 'faxbridge.db')}`);
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await relay?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A message accepted straight into the store (no SMTP), with an accepted receipt queued for its job. */
  async function acceptWithSender(sender: string, n: number) {
    const now = Date.now();
    await store.acceptMessage(
      {
        document: {
          id: `doc${n}`,
          storage_key: `doc${n}.pdf`,
          sha256: 'x',
          size: 10,
          pages: 1,
          filename: 'a.pdf',
          created_at: now,
        },
        message: {
          id: `msg${n}`,
          sender,
          sender_name: null,
          envelope_from: null,
          message_id: `<m${n}@example.com>`,
          subject: 'x',
          references_json: '[]',
          document_id: `doc${n}`,
          session_id: null,
          received_at: now,
        },
        jobs: [{ id: `job${n}`, to_number: '+15551230901', from_number: '+15550000000' }],
        max_attempts: 3,
        accepted_receipt: true,
      },
      now,
    );
  }

  it.each([
    ['an empty sender', '', 0],
    ['the null path <>', '<>', 0],
    ['a sender without a domain', 'alice', 0],
    ['a real sender (control)', 'bob@example.com', 1],
  ])('%s: %s', async (_name, sender, expected) => {
    const n = relay.messages.length + Math.floor(Math.random() * 1e9);
    await acceptWithSender(sender, n);
    const file = path.join(dataDir, 'faxbridge.yaml');
    writeFileSync(file, `data_dir: ${JSON.stringify(dataDir)}\nmail:\n  smtp_url: ${relay.url}\n`);
    const { config } = loadConfig(file, {});
    const signer = makeUrlSigner('test-secret-test-secret-test-secret');
    const mailer = makeMailer({
      smtpUrl: relay.url,
      outboxDir: path.join(dataDir, 'outbox'),
      log: makeSilentLogger(),
    });
    const before = relay.messages.length;
    const triesBefore = relay.mailFroms();
    const deadBefore = await store.countOutbox('dead');
    try {
      const claimed = await drainOutbox(
        {
          config,
          store,
          documents: makeLocalStorage({
            root: path.join(dataDir, 'documents'),
            publicUrl: () => 'http://x',
            signer,
          }),
          mailer,
          signer,
          clock: systemClock,
          log: makeSilentLogger(),
        },
        'test-owner',
      );
      expect(claimed).toBe(1);
    } finally {
      await mailer.close();
    }
    // Not even tried: the relay saw no MAIL FROM for a sender nobody could reply to.
    expect(relay.mailFroms() - triesBefore).toBe(expected);
    expect(relay.messages.length - before).toBe(expected);
    expect((await store.countOutbox('dead')) - deadBefore).toBe(1 - expected);
    if (expected) expect(relay.messages.at(-1)!.rcptTo).toEqual([sender]);
  });
});
