import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeLocalStorage } from '../../src/blobs/localStorage.js';
import { sweepRetention } from '../../src/jobs/retention.js';
import { DAY } from '../../src/lib/units.js';
import { makeUrlSigner } from '../../src/lib/urlSigner.js';
import { makeSilentLogger } from '../../src/log.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { DocumentRow, JobStore } from '../../src/store/jobStore.js';
import { type InboundEnv, makeMovableClock, SIM_SEED_BYTE, startInboundEnv } from '../helpers/inboundEnv.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, waitFor } from '../helpers/testDaemon.js';
import { startTestRelay } from '../helpers/testRelay.js';

/** Emails a one-page PDF to `number` and returns the job id from the 250 reply. */
async function faxByEmail(env: InboundEnv, number: string): Promise<string> {
  const result = await sendMail(env.daemon.smtp.address().port, {
    from: 'alice@example.com',
    to: `${number}@fax.localhost`,
    subject: 'Retention test',
    text: 'see attached',
    attachments: [
      { filename: 'doc.pdf', content: await makePdf(1, { label: number }), contentType: 'application/pdf' },
    ],
  });
  expect(result.code).toBe(250);
  return /Queued (\S+) /.exec(result.response)![1]!;
}

async function jobDocument(store: JobStore, jobId: string): Promise<DocumentRow> {
  const job = await store.getJob(jobId);
  const message = await store.getMessage(job!.message_row_id);
  return (await store.getDocument(message!.document_id))!;
}

async function receiveFax(env: InboundEnv, to: string): Promise<DocumentRow> {
  const fax = await env.simulator.sendInbound({
    from: '+15557654321',
    to,
    pages: 1,
    webhookUrl: env.webhookUrl,
  });
  const row = await waitFor(
    async () => {
      const found = await env.daemon.store.getInboundFax(fax.id);
      return found?.document_id ? found : null;
    },
    10_000,
    'received fax stored',
  );
  return (await env.daemon.store.getDocument(row.document_id!))!;
}

const fileOf = (env: InboundEnv, document: DocumentRow) =>
  path.join(env.dataDir, 'documents', document.storage_key);

describe('retention sweep with an injected clock', () => {
  let env: InboundEnv;
  beforeAll(async () => {
    env = await startInboundEnv();
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('deletes old documents and .eml files, keeps job rows and documents of jobs in progress', async () => {
    const { store } = env.daemon;
    const deliveredJob = await faxByEmail(env, '+15551234567');
    await waitFor(
      async () => (await store.getJob(deliveredJob))?.status === 'delivered',
      10_000,
      'delivered',
    );
    // A job still waiting for Telnyx's final event (its webhooks are lost) is in progress.
    env.simulator.webhookMode('drop');
    let pendingJob: string;
    try {
      pendingJob = await faxByEmail(env, '+15552345678');
      await waitFor(async () => (await store.getJob(pendingJob))?.status === 'placed', 10_000, 'placed');
      await env.simulator.waitForIdle();
    } finally {
      env.simulator.webhookMode('normal');
    }
    const received = await receiveFax(env, '+15550001111');
    const outboxDir = path.join(env.dataDir, 'outbox');
    mkdirSync(outboxDir, { recursive: true });
    writeFileSync(path.join(outboxDir, 'old-receipt.eml'), 'Subject: old\r\n\r\nold\r\n');
    writeFileSync(path.join(outboxDir, 'notes.txt'), 'not mail');

    const deps = (offsetMs: number, days = 30) => ({
      config: { retention: { days }, data_dir: env.dataDir },
      store,
      documents: makeLocalStorage({
        root: path.join(env.dataDir, 'documents'),
        publicUrl: () => env.httpUrl,
        signer: makeUrlSigner('retention-test'),
      }),
      clock: { now: () => Date.now() + offsetMs },
      log: makeSilentLogger(),
    });

    // 29 days on, nothing is old enough.
    expect(await sweepRetention(deps(29 * DAY))).toEqual({ documents: 0, emlFiles: 0 });
    // retention.days 0 keeps everything, however old.
    expect(await sweepRetention(deps(1000 * DAY, 0))).toEqual({ documents: 0, emlFiles: 0 });
    expect(existsSync(fileOf(env, received))).toBe(true);

    // 31 days on: the delivered job's document and the PDF it transmitted go, and the received fax; the job in
    // progress keeps both of its own.
    const sentTransmitted = (await store.getTransmittedDocument(deliveredJob))!;
    expect(await sweepRetention(deps(31 * DAY))).toEqual({ documents: 3, emlFiles: 1 });
    expect((await store.getTransmittedDocument(deliveredJob))?.deleted_at).not.toBeNull();
    expect(existsSync(fileOf(env, sentTransmitted))).toBe(false);
    const pendingTransmitted = (await store.getTransmittedDocument(pendingJob!))!;
    expect(pendingTransmitted.deleted_at).toBeNull();
    expect(existsSync(fileOf(env, pendingTransmitted))).toBe(true);
    const sent = await jobDocument(store, deliveredJob);
    expect(sent.deleted_at).not.toBeNull();
    expect(existsSync(fileOf(env, sent))).toBe(false);
    expect(await store.getJob(deliveredJob)).toMatchObject({
      status: 'delivered',
      to_number: '+15551234567',
    });
    expect(sent).toMatchObject({ pages: 1, filename: 'doc.pdf' });

    const stored = (await store.getDocument(received.id))!;
    expect(stored.deleted_at).not.toBeNull();
    expect(existsSync(fileOf(env, stored))).toBe(false);
    expect(stored).toMatchObject({ sha256: received.sha256, size: received.size });

    const kept = await jobDocument(store, pendingJob!);
    expect(kept.deleted_at).toBeNull();
    expect(existsSync(fileOf(env, kept))).toBe(true);
    expect(existsSync(path.join(outboxDir, 'old-receipt.eml'))).toBe(false);
    expect(existsSync(path.join(outboxDir, 'notes.txt'))).toBe(true);

    // A second sweep finds nothing more.
    expect(await sweepRetention(deps(31 * DAY))).toEqual({ documents: 0, emlFiles: 0 });
  });
});

describe('retention in the daemon', () => {
  it('sweeps at start: restarted a month later, documents are gone and the rows remain', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-retention-'));
    const simulator = await startSimulator({
      timing: { stepMs: 20 },
      signingSeed: new Uint8Array(32).fill(SIM_SEED_BYTE),
    });
    const relay = await startTestRelay();
    try {
      const first = await startInboundEnv({ dataDir, simulator, relay });
      let jobId: string;
      let received: DocumentRow;
      try {
        jobId = await faxByEmail(first, '+15551234567');
        await waitFor(
          async () => (await first.daemon.store.getJob(jobId))?.status === 'delivered',
          10_000,
          'delivered',
        );
        received = await receiveFax(first, '+15550001111');
        const sentFax = (await first.daemon.store.listAttempts(jobId)).map((a) => a.fax_id!);
        expect((await first.daemon.store.listEventsOfFaxes(sentFax)).length).toBeGreaterThan(0);
      } finally {
        await first.stop();
      }
      expect(existsSync(fileOf(first, received!))).toBe(true);

      const clock = makeMovableClock();
      clock.offsetMs = 31 * DAY;
      const later = await startInboundEnv({ dataDir, simulator, relay, clock });
      try {
        const { store } = later.daemon;
        await waitFor(
          async () => (await store.getDocument(received.id))?.deleted_at,
          10_000,
          'document deleted',
        );
        expect(existsSync(fileOf(later, received))).toBe(false);
        expect((await jobDocument(store, jobId!)).deleted_at).not.toBeNull();
        expect(await store.getJob(jobId!)).toMatchObject({ status: 'delivered', to_number: '+15551234567' });
        // Event ids are remembered for 7 days only (docs/behaviour.md §5): a month later the job's events are
        // gone.
        const faxIds = (await store.listAttempts(jobId!)).flatMap((a) => (a.fax_id ? [a.fax_id] : []));
        expect(faxIds).toHaveLength(1);
        await waitFor(
          async () => (await store.listEventsOfFaxes(faxIds)).length === 0,
          10_000,
          'events forgotten',
        );
        const faxes = simulator.faxes().filter((fax) => fax.direction === 'inbound');
        expect(await store.getInboundFax(faxes[0]!.id)).toMatchObject({
          status: 'mailed',
          document_id: received.id,
        });
      } finally {
        await later.stop();
      }
    } finally {
      await simulator.close();
      await relay.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
