import { randomBytes } from 'node:crypto';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { JobRow, JobStore, NewInboundFax, NewMessage } from '../../src/store/jobStore.js';
import { postgresReachable } from '../helpers/postgres.js';
import { makeStoreHarness, type StoreHarness } from '../helpers/storeHarness.js';

/*
 * The web console's store operations (keyset-paged searches, audit trail, day counts) on SQLite and
 * PostgreSQL alike, with the same harness as store.suite.test.ts. PostgreSQL tests skip when the server is
 * unreachable.
 */
const postgresUp = await postgresReachable();
const NOW = 1_700_000_000_000;

const id = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

function message(numbers: string[], sender: string, at: number): NewMessage {
  const documentId = id('doc');
  return {
    document: {
      id: documentId,
      storage_key: `${documentId}.pdf`,
      sha256: 'ab'.repeat(32),
      size: 100,
      pages: 1,
      filename: 'a.pdf',
      created_at: at,
    },
    message: {
      id: id('msg'),
      sender,
      sender_name: null,
      envelope_from: null,
      message_id: null,
      subject: null,
      references_json: '[]',
      document_id: documentId,
      session_id: null,
      received_at: at,
    },
    jobs: numbers.map((to) => ({ id: id('fx'), to_number: to, from_number: '+15550001111' })),
    max_attempts: 3,
    accepted_receipt: false,
  };
}

function inbound(from: string, to: string, at: number): NewInboundFax {
  return {
    fax_id: id('in'),
    status: 'received',
    from_number: from,
    to_number: to,
    pages: 1,
    partial: false,
    duration_secs: null,
    media_url: null,
    failure_reason: null,
    received_at: at,
  };
}

describe.each(['sqlite', 'postgres'] as const)('console queries on %s', (dialect) => {
  const skip = dialect === 'postgres' && !postgresUp;
  const test = it.skipIf(skip);
  let harness: StoreHarness;
  let store: JobStore;

  beforeAll(async () => {
    if (!skip) harness = await makeStoreHarness(dialect);
  });
  afterAll(async () => {
    if (!skip) await harness.dispose();
  });
  beforeEach(async () => {
    if (skip) return;
    await harness.reset();
    store = await harness.open();
  });
  afterEach(async () => {
    if (!skip) await store.close();
  });

  test('pages through every job once, newest first, even when many share a timestamp', async () => {
    const all: JobRow[] = [];
    // 3 messages × 4 numbers at the same instant, plus 3 older ones: ties on created_at are broken by id.
    for (let i = 0; i < 3; i++) {
      all.push(
        ...(await store.acceptMessage(
          message(['+15550000001', '+15550000002', '+15550000003', '+15550000004'], 'a@x.com', NOW),
          NOW,
        )),
      );
    }
    for (let i = 1; i <= 3; i++)
      all.push(...(await store.acceptMessage(message(['+15550000009'], 'b@x.com', NOW - i), NOW - i)));

    const seen: string[] = [];
    let before: { created_at: number; id: string } | undefined;
    for (;;) {
      const page = await store.searchJobs({ limit: 5, before });
      if (page.length === 0) break;
      seen.push(...page.map((job) => job.id));
      const last = page.at(-1)!;
      before = { created_at: last.created_at, id: last.id };
    }
    expect(seen).toHaveLength(all.length);
    expect(new Set(seen).size).toBe(all.length);
    const expected = [...all].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
    expect(seen).toEqual(expected.map((job) => job.id));
  });

  test('filters jobs by sender, number prefix, status and date range', async () => {
    await store.acceptMessage(message(['+15550000001'], 'a@x.com', NOW - 10_000), NOW - 10_000);
    const [bJob] = await store.acceptMessage(message(['+4930123456'], 'b@x.com', NOW), NOW);
    const ids = async (search: Parameters<JobStore['searchJobs']>[0]) =>
      (await store.searchJobs(search)).map((job) => job.to_number);

    expect(await ids({ sender: 'b@x.com', limit: 10 })).toEqual(['+4930123456']);
    expect(await ids({ toNumberPrefix: '+1555', limit: 10 })).toEqual(['+15550000001']);
    // LIKE wildcards typed into the search box match only themselves.
    expect(await ids({ toNumberPrefix: '+%', limit: 10 })).toEqual([]);
    expect(await ids({ status: 'queued', limit: 10 })).toHaveLength(2);
    expect(await ids({ status: 'delivered', limit: 10 })).toEqual([]);
    expect(await ids({ createdFrom: NOW - 5_000, limit: 10 })).toEqual(['+4930123456']);
    expect(await ids({ createdBefore: NOW - 5_000, limit: 10 })).toEqual(['+15550000001']);
    expect(bJob!.sender).toBe('b@x.com');
  });

  test('searches received faxes by caller, called number scope and pages them', async () => {
    await store.recordInboundFax(inbound('+12125550100', '+15550001111', NOW - 2), [], null, NOW);
    await store.recordInboundFax(inbound('+12125550199', '+15550002222', NOW - 1), [], null, NOW);
    await store.recordInboundFax(inbound('anonymous', '+15550003333', NOW), [], null, NOW);
    const callers = async (search: Parameters<JobStore['searchInboundFaxes']>[0]) =>
      (await store.searchInboundFaxes(search)).map((fax) => fax.from_number);

    expect(await callers({ limit: 10 })).toEqual(['anonymous', '+12125550199', '+12125550100']);
    expect(await callers({ fromNumberPrefix: '+1212555019', limit: 10 })).toEqual(['+12125550199']);
    expect(await callers({ numbers: { in: ['+15550001111'] }, limit: 10 })).toEqual(['+12125550100']);
    expect(await callers({ numbers: { in: [] }, limit: 10 })).toEqual([]);
    expect(await callers({ numbers: { notIn: ['+15550001111'] }, limit: 10 })).toEqual([
      'anonymous',
      '+12125550199',
    ]);
    const [first] = await store.searchInboundFaxes({ limit: 1 });
    expect(first!.partial).toBe(false);
    expect(
      await callers({ limit: 10, before: { received_at: first!.received_at, fax_id: first!.fax_id } }),
    ).toEqual(['+12125550199', '+12125550100']);
  });

  test('records audit entries, lists them newest first and forgets old ones', async () => {
    for (let i = 0; i < 3; i++) {
      await store.recordAudit({
        id: id('au'),
        at: NOW + i,
        actor: 'a@x.com',
        action: i === 0 ? 'preview' : 'download',
        object_type: 'job',
        object_id: `fx_${i}`,
        address: '127.0.0.1',
        detail: i === 0 ? 'page 1' : null,
      });
    }
    const listed = await store.listAudit({ limit: 2 });
    expect(listed.map((entry) => entry.object_id)).toEqual(['fx_2', 'fx_1']);
    expect(listed[0]).toMatchObject({
      actor: 'a@x.com',
      action: 'download',
      address: '127.0.0.1',
      at: NOW + 2,
    });
    const next = await store.listAudit({ limit: 2, before: { at: listed[1]!.at, id: listed[1]!.id } });
    expect(next.map((entry) => [entry.object_id, entry.detail])).toEqual([['fx_0', 'page 1']]);
    expect(await store.forgetAudit(NOW + 2)).toBe(2);
    expect(await store.listAudit({ limit: 10 })).toHaveLength(1);
  });

  test('queues a re-send of a received fax with its audit entry; nothing for one without a live document', async () => {
    const fax = inbound('+12125550100', '+15550001111', NOW);
    await store.recordInboundFax(fax, [], null, NOW);
    const entry = {
      kind: 'inbound_fax' as const,
      payload: { fax_id: fax.fax_id, mail: 'fax', to: ['a@x.com'] },
    };
    const audit = (action: string) => ({
      id: id('au'),
      at: NOW,
      actor: 'a@x.com',
      action,
      object_type: 'inbound',
      object_id: fax.fax_id,
      address: '127.0.0.1',
      detail: null,
    });
    // Not downloaded yet: no document to send.
    expect(await store.queueInboundResend(fax.fax_id, 'rs_first', entry, audit('resend'), NOW)).toBe('gone');
    expect(await store.queueInboundResend('in_unknown', 'rs_first', entry, audit('resend'), NOW)).toBe(
      'gone',
    );
    expect(await store.countOutbox('pending')).toBe(0);
    expect(await store.listAudit({ limit: 10 })).toEqual([]);

    const [claimed] = await store.claimInboundFaxes('w', NOW, 60_000, 1);
    const documentId = id('doc');
    const stored = await store.updateInboundFax(
      claimed!.fax_id,
      'w',
      {
        status: 'mailed',
        document: {
          id: documentId,
          storage_key: `inbound/${fax.fax_id}.pdf`,
          sha256: 'cd'.repeat(32),
          size: 10,
          pages: 1,
          filename: 'fax.pdf',
          created_at: NOW,
        },
      },
      NOW,
    );
    expect(stored).toBe(true);
    expect(await store.queueInboundResend(fax.fax_id, 'rs_first', entry, audit('resend'), NOW + 1)).toBe(
      'queued',
    );
    // The same form sent again (a double click): nothing more is queued or audited.
    expect(await store.queueInboundResend(fax.fax_id, 'rs_first', entry, audit('resend'), NOW + 1)).toBe(
      'already',
    );
    const [row, extra] = await store.claimOutbox('o', NOW + 1, 60_000, 5);
    expect(extra).toBeUndefined();
    expect(row).toMatchObject({ kind: 'inbound_fax', job_id: null });
    expect(JSON.parse(row!.payload_json)).toEqual(entry.payload);
    expect((await store.listAudit({ limit: 10 })).map((e) => e.action)).toEqual(['resend']);

    await store.markDocumentDeleted(documentId, NOW + 2);
    expect(await store.queueInboundResend(fax.fax_id, 'rs_second', entry, audit('resend'), NOW + 3)).toBe(
      'gone',
    );
  });

  test('counts the day: delivered and failed jobs finished since, faxes received since', async () => {
    const jobs = await store.acceptMessage(
      message(['+15550000001', '+15550000002', '+15550000003'], 'a@x.com', NOW),
      NOW,
    );
    const finish = async (job: JobRow, status: 'delivered' | 'failed', at: number) => {
      const leased = await store.leaseJob(job.id, 'test', NOW, 60_000);
      expect(leased).not.toBeNull();
      await store.completeWork(job.id, 'test', { job: { status, run_at: null, finished_at: at } }, NOW);
    };
    await finish(jobs[0]!, 'delivered', NOW + 10);
    await finish(jobs[1]!, 'failed', NOW + 10);
    await finish(jobs[2]!, 'delivered', NOW - 10);
    await store.recordInboundFax(inbound('+12125550100', '+15550001111', NOW + 5), [], null, NOW);
    await store.recordInboundFax(inbound('+12125550100', '+15550001111', NOW - 5), [], null, NOW);
    expect(await store.countActivity(NOW)).toEqual({ delivered: 1, failed: 1, received: 1 });
  });
});
