import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { FaxError } from '../../src/errors.js';
import type { EventContext, JobStore, NewMessage, Transition } from '../../src/store/jobStore.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/migrations/postgres.js';
import { openStore } from '../../src/store/openStore.js';
import { parsePostgresUrl } from '../../src/store/postgres/connectionConfig.js';
import { asPostgresStoreError } from '../../src/store/postgres/storeError.js';
import { adminQuery, postgresReachable, TEST_POSTGRES_URL, withPostgres } from '../helpers/postgres.js';
import { makeStoreHarness, type StoreHarness } from '../helpers/storeHarness.js';

/*
 * One suite for both stores: every JobStore promise the daemon relies on, run against SQLite and
 * PostgreSQL. PostgreSQL tests skip when the server is unreachable, and fail instead with CI=true.
 */
const postgresUp = await postgresReachable();

const NOW = 1_700_000_000_000;
const LEASE = 60_000;

const id = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

function newMessage(
  numbers: string[],
  options: {
    sender?: string;
    messageId?: string;
    at?: number;
    acceptedReceipt?: boolean;
    dedupeKey?: string;
  } = {},
): NewMessage {
  const documentId = id('doc');
  const at = options.at ?? NOW;
  return {
    document: {
      id: documentId,
      storage_key: `${documentId}.pdf`,
      sha256: 'ab'.repeat(32),
      size: 12_345,
      pages: 2,
      filename: 'letter.pdf',
      created_at: at,
    },
    message: {
      id: id('msg'),
      sender: options.sender ?? 'alice@example.com',
      sender_name: 'Alice',
      envelope_from: 'alice@example.com',
      message_id: options.messageId ?? `<${id('m')}@example.com>`,
      subject: 'Fax',
      references_json: '[]',
      document_id: documentId,
      session_id: 'session-1',
      received_at: at,
      dedupe_key: options.dedupeKey ?? null,
      cover_json: '{"comments":"Please fax this.","names":{}}',
    },
    jobs: numbers.map((to) => ({ id: id('fx'), to_number: to, from_number: '+15550001111' })),
    max_attempts: 3,
    accepted_receipt: options.acceptedReceipt ?? false,
  };
}

function event(faxId: string | null, receivedAt = NOW) {
  return {
    id: id('ev'),
    event_type: 'fax.delivered',
    fax_id: faxId,
    occurred_at: '2023-11-14T22:13:20Z',
    received_at: receivedAt,
    payload_json: '{}',
  };
}

const delivered: Transition = {
  job: { status: 'delivered', run_at: null, finished_at: NOW },
  outbox: [{ kind: 'receipt_delivered' }],
};

describe.each(['sqlite', 'postgres'] as const)('JobStore on %s', (dialect) => {
  const skip = dialect === 'postgres' && !postgresUp;
  const test = it.skipIf(skip);
  let harness: StoreHarness;
  let opened: JobStore[] = [];
  let store: JobStore;

  async function open(): Promise<JobStore> {
    const instance = await harness.open();
    opened.push(instance);
    return instance;
  }

  /** Accepts one message and leases its jobs to `owner`. */
  async function claimed(owner: string, numbers = ['+15550002222']) {
    const jobs = await store.acceptMessage(newMessage(numbers), NOW);
    const leased = await store.claimJobs(owner, NOW, LEASE, numbers.length);
    expect(leased.map((job) => job.id).sort()).toEqual(jobs.map((job) => job.id).sort());
    return jobs;
  }

  beforeAll(async () => {
    if (!skip) harness = await makeStoreHarness(dialect);
  });
  afterAll(async () => {
    if (!skip) await harness.dispose();
  });
  beforeEach(async () => {
    if (skip) return;
    await harness.reset();
    store = await open();
  });
  afterEach(async () => {
    await Promise.all(opened.map((instance) => instance.close()));
    opened = [];
  });

  test('acceptMessage stores the jobs in recipient order; findResentMessage finds the resend', async () => {
    const input = newMessage(['+15550002222', '+15550003333', '+15550004444'], {
      acceptedReceipt: true,
      dedupeKey: 'key-1',
    });
    const jobs = await store.acceptMessage(input, NOW);
    expect(jobs.map((job) => job.to_number)).toEqual(['+15550002222', '+15550003333', '+15550004444']);
    expect(jobs[0]).toMatchObject({
      status: 'queued',
      attempt: 0,
      max_attempts: 3,
      run_at: NOW,
      lease_owner: null,
      api_errors: 0,
      created_at: NOW,
      sender: 'alice@example.com',
    });

    // Times are numbers on both stores (pg returns int8 as strings unless told otherwise).
    expect(typeof jobs[0]!.created_at).toBe('number');
    expect(await store.countOutbox('pending')).toBe(3);

    const found = await store.findResentMessage('key-1', NOW - 1000);
    expect(found?.message).toEqual(input.message);
    expect(found?.jobs.map((job) => job.id)).toEqual(jobs.map((job) => job.id));
    expect(await store.findResentMessage('key-1', NOW + 1)).toBeNull();
    expect(await store.findResentMessage('key-2', 0)).toBeNull();
    expect(await store.getMessage(input.message.id)).toEqual(input.message);
    expect(await store.getDocument(input.document.id)).toEqual({ ...input.document, deleted_at: null });
    expect(await store.getJob(jobs[1]!.id)).toEqual(jobs[1]);
  });

  test('acceptMessage stores a mail once per resend key, even from two instances at the same instant', async () => {
    const other = await open();
    const first = newMessage(['+15550002222', '+15550003333'], { dedupeKey: 'same-mail' });
    const second = newMessage(['+15550002222', '+15550003333'], { dedupeKey: 'same-mail' });
    const [a, b] = await Promise.all([
      store.acceptMessage({ ...first, resend_since: NOW - 1000 }, NOW),
      other.acceptMessage({ ...second, resend_since: NOW - 1000 }, NOW),
    ]);
    expect(a.map((job) => job.id)).toEqual(b.map((job) => job.id));
    expect(await store.listJobs({})).toHaveLength(2);
    const winner = a[0]!.message_row_id;
    const loser = winner === first.message.id ? second : first;
    expect(await store.getMessage(loser.message.id)).toBeNull();
    // The loser's document row is not left behind without a message.
    expect(await store.getDocument(loser.document.id)).toBeNull();

    // After the resend window the same mail is a new fax, and the key moves to it.
    const later = newMessage(['+15550002222', '+15550003333'], { dedupeKey: 'same-mail', at: NOW + 5000 });
    const again = await store.acceptMessage({ ...later, resend_since: NOW + 1 }, NOW + 5000);
    expect(again.map((job) => job.message_row_id)).toEqual([later.message.id, later.message.id]);
    expect((await store.findResentMessage('same-mail', 0))?.message.id).toBe(later.message.id);
    expect((await store.getMessage(winner))?.dedupe_key).toBeNull();
  });

  test('claimJobs: two owners never get the same job, and only due jobs are handed out', async () => {
    await store.acceptMessage(newMessage(['+15550002222', '+15550003333', '+15550004444']), NOW);
    await store.acceptMessage(newMessage(['+15550005555']), NOW + 10_000);
    const a = await store.claimJobs('owner-a', NOW, LEASE, 2);
    const b = await store.claimJobs('owner-b', NOW, LEASE, 10);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(1);
    expect(new Set([...a, ...b].map((job) => job.id)).size).toBe(3);
    expect(a.every((job) => job.lease_owner === 'owner-a' && job.lease_until === NOW + LEASE)).toBe(true);
    expect(await store.claimJobs('owner-c', NOW, LEASE, 10)).toEqual([]);
    expect(await store.claimJobs('owner-c', NOW + 10_000, LEASE, 10)).toHaveLength(1);
  });

  test('claimJobs with dueBy: only jobs due by then are handed out; the lease still runs from now', async () => {
    await store.acceptMessage(newMessage(['+15550002222'], { at: NOW }), NOW);
    await store.acceptMessage(newMessage(['+15550003333'], { at: NOW + 5000 }), NOW + 5000);
    // Held back 10 s at NOW + 12 s: only the job due at NOW is old enough.
    const held = await store.claimJobs('owner-a', NOW + 12_000, LEASE, 10, NOW + 2000);
    expect(held.map((job) => job.to_number)).toEqual(['+15550002222']);
    expect(held[0]!.lease_until).toBe(NOW + 12_000 + LEASE);
    expect(await store.claimJobs('owner-a', NOW + 12_000, LEASE, 10, NOW + 4999)).toEqual([]);
    const rest = await store.claimJobs('owner-a', NOW + 12_000, LEASE, 10);
    expect(rest.map((job) => job.to_number)).toEqual(['+15550003333']);
    // An expired lease is taken over under a hold as well: its job has long been due.
    const takeover = await store.claimJobs('owner-b', NOW + 12_001 + LEASE, LEASE, 10, NOW + 2001 + LEASE);
    expect(takeover.map((job) => job.to_number).sort()).toEqual(['+15550002222', '+15550003333']);
  });

  test('an expired lease is taken over, and the old owner can no longer write', async () => {
    const [job] = await claimed('owner-a');
    expect(await store.claimJobs('owner-b', NOW + LEASE - 1, LEASE, 5)).toEqual([]);
    const takeover = await store.claimJobs('owner-b', NOW + LEASE + 1, LEASE, 5);
    expect(takeover.map((row) => row.id)).toEqual([job!.id]);
    expect(takeover[0]!.lease_owner).toBe('owner-b');

    expect(await store.completeWork(job!.id, 'owner-a', delivered, NOW + LEASE + 2)).toBe(false);
    expect(await store.applyWhileLeased(job!.id, 'owner-a', delivered, NOW + LEASE + 2)).toBe(false);
    expect(await store.renewLease(job!.id, 'owner-a', NOW + 2 * LEASE)).toBe(false);
    expect((await store.getJob(job!.id))!.status).toBe('queued');
    expect(await store.countOutbox('pending')).toBe(0);

    expect(await store.completeWork(job!.id, 'owner-b', delivered, NOW + LEASE + 3)).toBe(true);
    expect(await store.getJob(job!.id)).toMatchObject({
      status: 'delivered',
      lease_owner: null,
      lease_until: null,
    });
    // Released: the finished owner cannot write twice.
    expect(await store.completeWork(job!.id, 'owner-b', delivered, NOW + LEASE + 4)).toBe(false);
  });

  test('a lease that expired but was not taken over still lets its owner finish', async () => {
    const [job] = await claimed('owner-a');
    expect(await store.completeWork(job!.id, 'owner-a', delivered, NOW + 10 * LEASE)).toBe(true);
    expect((await store.getJob(job!.id))!.status).toBe('delivered');
  });

  test('renewLease and applyWhileLeased keep the lease; completeWork releases it', async () => {
    const [job] = await claimed('owner-a');
    expect(await store.renewLease(job!.id, 'owner-a', NOW + 2 * LEASE)).toBe(true);
    const posting: Transition = {
      job: { attempt: 1 },
      attempt: { attempt: 1, client_state: 'Y3M=', state: 'posting' },
    };
    expect(await store.applyWhileLeased(job!.id, 'owner-a', posting, NOW + 5)).toBe(true);
    expect(await store.getJob(job!.id)).toMatchObject({
      attempt: 1,
      lease_owner: 'owner-a',
      lease_until: NOW + 2 * LEASE,
      updated_at: NOW + 5,
    });
    expect(await store.claimJobs('owner-b', NOW + LEASE + 1, LEASE, 5)).toEqual([]);
    expect(await store.completeWork(job!.id, 'owner-a', { job: { run_at: NOW + 100 } }, NOW + 6)).toBe(true);
    expect(await store.getJob(job!.id)).toMatchObject({
      lease_owner: null,
      lease_until: null,
      run_at: NOW + 100,
    });
    expect((await store.claimJobs('owner-b', NOW + 100, LEASE, 5)).map((row) => row.id)).toEqual([job!.id]);
  });

  test('transitions insert then update the attempt, and drop only a row still posting', async () => {
    const [job] = await claimed('owner-a');
    await store.applyWhileLeased(
      job!.id,
      'owner-a',
      { job: { attempt: 1 }, attempt: { attempt: 1, client_state: 'cs-1' } },
      NOW + 1,
    );
    expect(await store.listAttempts(job!.id)).toEqual([
      expect.objectContaining({ attempt: 1, state: 'posting', client_state: 'cs-1', started_at: NOW + 1 }),
    ]);
    await store.applyWhileLeased(
      job!.id,
      'owner-a',
      { attempt: { attempt: 1, state: 'placed', fax_id: 'fax-1', placed_at: NOW + 2, started_at: NOW + 99 } },
      NOW + 2,
    );
    const [placed] = await store.listAttempts(job!.id);
    // client_state and started_at are written once, when the row is created.
    expect(placed).toMatchObject({
      state: 'placed',
      fax_id: 'fax-1',
      client_state: 'cs-1',
      started_at: NOW + 1,
    });
    expect(placed!.placed_at).toBe(NOW + 2);

    await store.applyWhileLeased(job!.id, 'owner-a', { dropAttempt: 1 }, NOW + 3);
    expect(await store.listAttempts(job!.id)).toHaveLength(1);
    await store.applyWhileLeased(
      job!.id,
      'owner-a',
      { job: { attempt: 2 }, attempt: { attempt: 2, client_state: 'cs-2' } },
      NOW + 4,
    );
    await store.applyWhileLeased(job!.id, 'owner-a', { dropAttempt: 2 }, NOW + 5);
    expect((await store.listAttempts(job!.id)).map((row) => row.attempt)).toEqual([1]);
  });

  test('a transition guarded on the attempt state is skipped once the attempt moved on, and the lease is released', async () => {
    const [job] = await claimed('owner-a');
    await store.applyWhileLeased(
      job!.id,
      'owner-a',
      { job: { attempt: 1 }, attempt: { attempt: 1, client_state: 'cs-1', state: 'delivered' } },
      NOW,
    );
    const ok = await store.completeWork(
      job!.id,
      'owner-a',
      {
        onlyIfAttemptState: { attempt: 1, state: 'posting' },
        job: { status: 'placed' },
        attempt: { attempt: 1, state: 'placed', fax_id: 'late-202' },
      },
      NOW + 1,
    );
    expect(ok).toBe(true);
    const after = await store.getJob(job!.id);
    expect(after!.status).toBe('queued');
    expect(after!.lease_owner).toBeNull();
    expect((await store.listAttempts(job!.id))[0]).toMatchObject({ state: 'delivered', fax_id: null });
  });

  test('a bounce is noted on the receipt it returns, and only there', async () => {
    const [job] = await claimed('owner-a');
    await store.completeWork(job!.id, 'owner-a', { outbox: [{ kind: 'receipt_failed' }] }, NOW);
    expect(await store.recordReceiptBounce(job!.id, 'receipt_delivered', 'bounced')).toBe(false);
    expect(await store.recordReceiptBounce(job!.id, 'receipt_failed', 'bounced: 5.1.1')).toBe(true);
    const rows = await store.listOutboxOfJob(job!.id);
    expect(rows.map((row) => [row.kind, row.last_error])).toEqual([['receipt_failed', 'bounced: 5.1.1']]);
  });

  test('the same receipt is queued once per job and kind, even when a transition is applied twice', async () => {
    const [job] = await claimed('owner-a');
    const twice: Transition = { outbox: [{ kind: 'receipt_delivered', payload: { n: 1 } }] };
    await store.applyWhileLeased(job!.id, 'owner-a', twice, NOW);
    await store.applyWhileLeased(job!.id, 'owner-a', twice, NOW + 1);
    await store.completeWork(job!.id, 'owner-a', delivered, NOW + 2);
    expect(await store.countOutbox('pending')).toBe(1);
    const [row] = await store.claimOutbox('mailer', NOW + 2, LEASE, 10);
    expect(row).toMatchObject({ kind: 'receipt_delivered', job_id: job!.id, payload_json: '{"n":1}' });
  });

  test('recordEvent reports a duplicate; processEvent acts once', async () => {
    const [job] = await claimed('owner-a');
    await store.completeWork(
      job!.id,
      'owner-a',
      {
        job: { status: 'placed', attempt: 1, run_at: null },
        attempt: { attempt: 1, client_state: 'cs', state: 'placed', fax_id: 'fax-9' },
      },
      NOW,
    );
    const row = event('fax-9');
    expect(await store.recordEvent(row)).toBe('recorded');
    expect(await store.recordEvent({ ...row, payload_json: '{"again":true}' })).toBe('duplicate');

    const seen: EventContext[] = [];
    const decide = (context: EventContext) => {
      seen.push(context);
      return { outcome: 'delivered', transition: delivered };
    };
    const correlate = { jobId: job!.id, attempt: 1, faxId: 'fax-9' };
    expect(await store.processEvent(row.id, correlate, decide, NOW + 1)).toEqual({
      outcome: 'delivered',
      transition: delivered,
    });
    expect(await store.processEvent(row.id, correlate, decide, NOW + 2)).toBeNull();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.event).toMatchObject({ id: row.id, payload_json: '{}', processed_at: null });
    expect(seen[0]!.job).toMatchObject({ id: job!.id, status: 'placed' });
    expect(seen[0]!.attempt).toMatchObject({ job_id: job!.id, attempt: 1, fax_id: 'fax-9' });
    expect((await store.getJob(job!.id))!.status).toBe('delivered');
    expect(await store.countOutbox('pending')).toBe(1);
    expect(await store.listUnprocessedEvents(10)).toEqual([]);
    expect(await store.processEvent('ev_unknown', correlate, decide, NOW)).toBeNull();
  });

  test('processEvent correlates by client_state first, then by fax id, else finds nothing', async () => {
    const [first, second] = await claimed('owner-a', ['+15550002222', '+15550003333']);
    for (const [job, faxId] of [
      [first!, 'fax-1'],
      [second!, 'fax-2'],
    ] as const) {
      await store.completeWork(
        job.id,
        'owner-a',
        { job: { status: 'placed', attempt: 1 }, attempt: { attempt: 1, client_state: 'cs', fax_id: faxId } },
        NOW,
      );
    }
    const found = async (correlate: {
      jobId: string | null;
      attempt: number | null;
      faxId: string | null;
    }) => {
      const row = event(correlate.faxId);
      await store.recordEvent(row);
      let context: EventContext | undefined;
      await store.processEvent(row.id, correlate, (c) => ((context = c), { outcome: 'seen' }), NOW);
      return { job: context?.job?.id ?? null, attempt: context?.attempt?.fax_id ?? null };
    };
    // client_state names job 1 even though the fax id is job 2's.
    expect(await found({ jobId: first!.id, attempt: 1, faxId: 'fax-2' })).toEqual({
      job: first!.id,
      attempt: 'fax-1',
    });
    // A client_state naming no attempt falls back to the fax id.
    expect(await found({ jobId: first!.id, attempt: 7, faxId: 'fax-2' })).toEqual({
      job: second!.id,
      attempt: 'fax-2',
    });
    expect(await found({ jobId: null, attempt: null, faxId: 'fax-2' })).toEqual({
      job: second!.id,
      attempt: 'fax-2',
    });
    // The job alone, before any attempt exists for it.
    expect(await found({ jobId: first!.id, attempt: 7, faxId: null })).toEqual({
      job: first!.id,
      attempt: null,
    });
    expect(await found({ jobId: null, attempt: null, faxId: 'fax-unknown' })).toEqual({
      job: null,
      attempt: null,
    });
  });

  test('a decision that throws leaves the event unprocessed and the job untouched', async () => {
    const [job] = await claimed('owner-a');
    const row = event(null);
    await store.recordEvent(row);
    const failing = () => {
      throw new Error('decision failed');
    };
    await expect(
      store.processEvent(row.id, { jobId: job!.id, attempt: null, faxId: null }, failing, NOW),
    ).rejects.toThrow('decision failed');
    expect((await store.listUnprocessedEvents(10)).map((e) => e.id)).toEqual([row.id]);
    expect((await store.getJob(job!.id))!.updated_at).toBe(NOW);
  });

  test('listUnprocessedEvents is oldest first; forgetEvents keeps unprocessed events', async () => {
    const rows = [event(null, NOW + 3), event(null, NOW + 1), event(null, NOW + 2)];
    for (const row of rows) await store.recordEvent(row);
    const none = { jobId: null, attempt: null, faxId: null };
    await store.processEvent(rows[1]!.id, none, () => ({ outcome: 'ignored' }), NOW + 4);
    const pending = await store.listUnprocessedEvents(10);
    expect(pending.map((row) => row.id)).toEqual([rows[2]!.id, rows[0]!.id]);
    expect(pending[0]).toMatchObject({ processed_at: null, outcome: null, received_at: NOW + 2 });
    expect(await store.listUnprocessedEvents(1)).toHaveLength(1);
    expect(await store.forgetEvents(NOW + 10)).toBe(1);
    expect(await store.listUnprocessedEvents(10)).toHaveLength(2);
  });

  test('outbox rows are leased, sent by their owner only, retried later, or dead', async () => {
    await store.acceptMessage(
      newMessage(['+15550002222', '+15550003333', '+15550004444'], { acceptedReceipt: true }),
      NOW,
    );
    const mine = await store.claimOutbox('mailer-a', NOW, LEASE, 10);
    expect(mine).toHaveLength(3);
    expect(mine.every((row) => row.attempts === 1 && row.lease_owner === 'mailer-a')).toBe(true);
    expect(await store.claimOutbox('mailer-b', NOW, LEASE, 10)).toEqual([]);

    const [sent, retried, dead] = mine;
    await store.markOutboxSent(sent!.id, 'mailer-b', NOW + 1);
    expect(await store.countOutbox('sent')).toBe(0);
    await store.markOutboxSent(sent!.id, 'mailer-a', NOW + 1);
    await store.markOutboxRetry(retried!.id, 'mailer-a', NOW + 5_000, 'relay said 451', false);
    await store.markOutboxRetry(dead!.id, 'mailer-a', NOW + 5_000, 'relay said 550', true);
    expect(await store.countOutbox('sent')).toBe(1);
    expect(await store.countOutbox('pending')).toBe(1);
    expect(await store.countOutbox('dead')).toBe(1);

    expect(await store.claimOutbox('mailer-b', NOW + 4_999, LEASE, 10)).toEqual([]);
    const again = await store.claimOutbox('mailer-b', NOW + 5_000, LEASE, 10);
    expect(again).toEqual([
      expect.objectContaining({
        id: retried!.id,
        attempts: 2,
        last_error: 'relay said 451',
        lease_owner: 'mailer-b',
      }),
    ]);
    // An expired outbox lease is taken over too.
    expect(await store.claimOutbox('mailer-c', NOW + 5_000 + LEASE + 1, LEASE, 10)).toHaveLength(1);
  });

  test('countJobs and listJobs', async () => {
    await claimed('owner-a', ['+15550002222', '+15550003333']);
    const [late] = await store.acceptMessage(newMessage(['+15550004444']), NOW + 50);
    const [first] = await store.claimJobs('owner-b', NOW + 50, LEASE, 1);
    await store.completeWork(first!.id, 'owner-b', delivered, NOW + 51);
    expect(await store.countJobs('queued')).toBe(2);
    expect(await store.countJobs('delivered')).toBe(1);
    expect(await store.countJobs('failed')).toBe(0);
    expect((await store.listJobs({}))[0]!.id).toBe(late!.id);
    expect(await store.listJobs({ limit: 2 })).toHaveLength(2);
    expect((await store.listJobs({ status: 'delivered' })).map((job) => job.id)).toEqual([first!.id]);
  });

  test('received faxes: recorded once per fax id with their event, leased, updated by the holder only', async () => {
    const fax = {
      fax_id: 'in-1',
      status: 'received' as const,
      from_number: '+15550009999',
      to_number: '+15550001111',
      pages: 3,
      partial: false,
      duration_secs: 40,
      media_url: 'https://media.example/in-1',
      failure_reason: null,
      received_at: NOW - 5,
    };
    const row = event('in-1');
    await store.recordEvent(row);
    expect(await store.recordInboundFax(fax, [], row.id, NOW)).toBe('recorded');
    expect(await store.recordInboundFax(fax, [], row.id, NOW + 1)).toBe('duplicate');
    expect(await store.recordInboundFax(fax, [{ kind: 'admin_notice', payload: {} }], null, NOW + 1)).toBe(
      'duplicate',
    );
    expect(await store.listUnprocessedEvents(10)).toEqual([]);
    expect(await store.countOutbox('pending')).toBe(0);
    expect(await store.getInboundFax('in-1')).toMatchObject({
      status: 'received',
      partial: false,
      run_at: NOW,
    });

    const [leased] = await store.claimInboundFaxes('worker-a', NOW, LEASE, 5);
    expect(leased).toMatchObject({ fax_id: 'in-1', attempts: 1, lease_owner: 'worker-a' });
    expect(await store.claimInboundFaxes('worker-b', NOW, LEASE, 5)).toEqual([]);
    const document = { ...newMessage([]).document, created_at: NOW + 2 };
    const change = {
      status: 'mailed' as const,
      run_at: null,
      finished_at: NOW + 2,
      document,
      outbox: [{ kind: 'inbound_fax' as const, payload: { fax: 'in-1' } }],
    };
    expect(await store.updateInboundFax('in-1', 'worker-b', change, NOW + 2)).toBe(false);
    expect(await store.updateInboundFax('in-1', 'worker-a', change, NOW + 2)).toBe(true);
    expect(await store.getInboundFax('in-1')).toMatchObject({
      status: 'mailed',
      document_id: document.id,
      lease_owner: null,
      updated_at: NOW + 2,
    });
    expect(await store.getDocument(document.id)).toMatchObject({ id: document.id, deleted_at: null });
    expect(await store.countOutbox('pending')).toBe(1);
  });

  test('retention lists old documents except those of jobs in progress, and marks them deleted', async () => {
    // Old, but its job is still queued: the document must stay.
    await store.acceptMessage(newMessage(['+15550002222'], { at: NOW - 2000 }), NOW - 2000);
    const done = newMessage(['+15550003333'], { at: NOW - 1000 });
    await store.acceptMessage(done, NOW - 1000);
    const young = newMessage(['+15550004444'], { at: NOW });
    await store.acceptMessage(young, NOW);
    const [job] = await store
      .claimJobs('owner-a', NOW - 1000, LEASE, 5)
      .then((jobs) => jobs.filter((j) => j.to_number === '+15550003333'));
    await store.completeWork(job!.id, 'owner-a', delivered, NOW);
    const expired = await store.listExpiredDocuments(NOW, 10);
    expect(expired.map((d) => d.id)).toEqual([done.document.id]);
    await store.markDocumentDeleted(done.document.id, NOW + 1);
    expect((await store.getDocument(done.document.id))!.deleted_at).toBe(NOW + 1);
    expect(await store.listExpiredDocuments(NOW + 10, 10)).toEqual([]);
  });

  test('operator: leaseJob, retryJob and the history listings', async () => {
    const input = newMessage(['+15550002222', '+15550003333']);
    const [first, second] = await store.acceptMessage(input, NOW);
    // Not due yet (run_at in the future) is fine for an operator; a live lease is not.
    await store.claimJobs('worker', NOW, LEASE, 2);
    expect(await store.completeWork(first!.id, 'worker', { job: { run_at: NOW + 10 * LEASE } }, NOW)).toBe(
      true,
    );
    expect(await store.leaseJob(first!.id, 'cli', NOW, LEASE)).toMatchObject({ lease_owner: 'cli' });
    expect(await store.leaseJob(first!.id, 'cli-2', NOW + 1, LEASE)).toBeNull();
    const failed: Transition = {
      job: { status: 'failed', run_at: null, failure_reason: 'busy' },
      attempt: { attempt: 1, client_state: 'cs', fax_id: 'fax-op', state: 'failed' },
      outbox: [{ kind: 'receipt_failed' }],
    };
    expect(await store.completeWork(first!.id, 'cli', failed, NOW + 2)).toBe(true);
    expect(await store.leaseJob(first!.id, 'cli', NOW + 3, LEASE)).toBeNull();

    expect(await store.retryJob(second!.id, 'fx_retry_none', 5, NOW + 3)).toBeNull();
    const retry = await store.retryJob(first!.id, 'fx_retry', 5, NOW + 3);
    expect(retry).toMatchObject({
      id: 'fx_retry',
      message_row_id: input.message.id,
      to_number: '+15550002222',
      status: 'queued',
      attempt: 0,
      max_attempts: 5,
      run_at: NOW + 3,
    });
    expect((await store.listJobsOfMessage(input.message.id)).map((job) => job.id)).toEqual([
      first!.id,
      second!.id,
      'fx_retry',
    ]);
    expect((await store.listOutboxOfJob(first!.id)).map((row) => row.kind)).toEqual(['receipt_failed']);

    const later = { ...event('fax-op'), occurred_at: '2023-11-14T22:14:00Z' };
    const earlier = { ...event('fax-op'), occurred_at: '2023-11-14T22:13:00Z' };
    await store.recordEvent(later);
    await store.recordEvent(earlier);
    await store.recordEvent(event('fax-other'));
    expect((await store.listEventsOfFaxes(['fax-op', 'fax-none'])).map((row) => row.id)).toEqual([
      earlier.id,
      later.id,
    ]);
    expect(await store.listEventsOfFaxes([])).toEqual([]);
  });

  test('4 claimers on separate instances over 200 jobs: every job is claimed exactly once', async () => {
    const numbers = Array.from({ length: 10 }, (_, i) => `+1555000${String(1000 + i)}`);
    for (let i = 0; i < 20; i++) await store.acceptMessage(newMessage(numbers), NOW);
    const instances = await Promise.all([open(), open(), open(), open()]);
    const claims = await Promise.all(
      instances.map(async (instance, index) => {
        const owner = `instance-${index}`;
        const mine: string[] = [];
        for (;;) {
          const jobs = await instance.claimJobs(owner, NOW, LEASE, 5);
          if (jobs.length === 0) return mine;
          for (const job of jobs) {
            mine.push(job.id);
            expect(await instance.completeWork(job.id, owner, delivered, NOW + 1)).toBe(true);
          }
        }
      }),
    );
    const all = claims.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    expect(await store.countJobs('delivered')).toBe(200);
    expect(await store.countOutbox('pending')).toBe(200);
  });
});

describe.skipIf(!postgresUp)('PostgreSQL store specifics', () => {
  it('several instances starting at once migrate the schema once', async () => {
    const database = await withPostgres();
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(database.url)));
      await Promise.all(stores.map((store) => store.migrate()));
      await Promise.all(stores.map((store) => store.close()));
      const versions = await adminQuery<{ version: number }>(
        `SELECT version FROM ${database.schema}.schema_migrations ORDER BY version`,
      );
      expect(versions.map((row) => row.version)).toEqual(
        POSTGRES_MIGRATIONS.map((migration) => migration.version),
      );
    } finally {
      await database.drop();
    }
  });

  it('?schema= creates a missing schema and keeps the tables in it', async () => {
    const schema = `fb_${randomBytes(6).toString('hex')}`;
    const url = new URL(TEST_POSTGRES_URL);
    url.searchParams.set('schema', schema);
    const store = await openStore(url.toString());
    try {
      await store.acceptMessage(newMessage(['+15550002222']), NOW);
      const [count] = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.jobs`);
      expect(count!.n).toBe('1');
    } finally {
      await store.close();
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it('an idle connection killed by the server is reported, and the next call reconnects', async () => {
    const database = await withPostgres();
    const application = `fbtest_${randomBytes(4).toString('hex')}`;
    const errors: Error[] = [];
    const store = await openStore(`${database.url}&application_name=${application}`, {
      onPoolError: (error) => errors.push(error),
    });
    try {
      await store.ping();
      const killed = await adminQuery(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [application],
      );
      expect(killed.length).toBeGreaterThan(0);
      await expect.poll(() => errors.length).toBeGreaterThan(0);
      expect((errors[0] as Error & { code?: string }).code).toBe('57P01');
      await store.ping();
    } finally {
      await store.close();
      await database.drop();
    }
  });

  it('int8 comes back as a number from the store without changing pg’s global parser', async () => {
    expect(pg.types.getTypeParser(20, 'text')('42')).toBe('42');
  });
});

describe('PostgreSQL connection handling (no server needed)', () => {
  it('an unreachable server is database_unavailable, retryable', async () => {
    const error = await openStore('postgres://postgres@127.0.0.1:1/test').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaxError);
    expect(error).toMatchObject({ code: 'database_unavailable', retryable: true });
  });

  it('server shutdown and connection SQLSTATEs are retryable; constraint errors pass through', () => {
    for (const code of ['57P01', '08006', '08001', 'ECONNREFUSED', '40P01']) {
      const error = Object.assign(new Error(code), { code });
      expect(asPostgresStoreError(error), code).toMatchObject({
        code: 'database_unavailable',
        retryable: true,
      });
    }
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(asPostgresStoreError(unique)).toBe(unique);
  });

  it('database.url: ?schema= and ?pool_max= are read and removed; bad values are refused', () => {
    const parsed = parsePostgresUrl('postgres://u:p@db:5432/fax?schema=office_a&pool_max=4&sslmode=require');
    expect(parsed.schema).toBe('office_a');
    expect(parsed.pool.max).toBe(4);
    const rest = new URL(parsed.pool.connectionString!);
    expect(rest.searchParams.get('schema')).toBeNull();
    expect(rest.searchParams.get('options')).toBe('-c search_path=office_a');
    expect(rest.searchParams.get('sslmode')).toBe('require');
    expect(parsePostgresUrl('postgres://db/fax').schema).toBeNull();
    for (const bad of [
      'postgres://db/fax?schema=a-b',
      'postgres://db/fax?schema=x;drop',
      'postgres://db/fax?pool_max=0',
    ]) {
      expect(() => parsePostgresUrl(bad), bad).toThrow(FaxError);
    }
  });
});
