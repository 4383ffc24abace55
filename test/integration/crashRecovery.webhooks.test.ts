import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeWebhookKeyPair } from '../helpers/signWebhook.js';
import { freePort, sendMail, waitFor } from '../helpers/testDaemon.js';

/*
 * kill -9 in the middle of group commits of webhooks (docs/behaviour.md §5, §9): the daemon records several
 * events per transaction and answers each 200 only after its transaction committed. A flood of signed events
 * (most for unknown faxes, one fax.delivered per real job, each of those sent twice) is cut by SIGKILL while
 * requests are in flight. After the restart: every event answered 200 is in the store, the ones never
 * answered are delivered again (as Telnyx would) and recorded, every event is processed, and every job is
 * delivered once, with one delivered receipt.
 */

const SEED_BYTE = 61;
const API_KEY = 'crash-webhooks-key';
const JOBS = 20;
const FILLER = 1500;
/** Connections of the flood; their requests in flight when the kill comes are what the group commits hold. */
const IN_FLIGHT = 48;
/** The kill comes once this many events were answered 200. */
const KILL_AFTER = 500;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface PlannedEvent {
  id: string;
  body: Buffer;
}

/** Telnyx's signature over `timestamp|body` (node:crypto is byte-identical to tweetnacl and much faster). */
function signedHeaders(key: KeyObject, body: Buffer): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.concat([Buffer.from(`${timestamp}|`), body]), key);
  return {
    'content-type': 'application/json',
    'telnyx-signature-ed25519': signature.toString('base64'),
    'telnyx-timestamp': timestamp,
  };
}

function event(eventType: string, payload: Record<string, unknown>): PlannedEvent {
  const id = randomUUID();
  const data = {
    record_type: 'event',
    id,
    event_type: eventType,
    occurred_at: new Date().toISOString(),
    payload,
  };
  return { id, body: Buffer.from(JSON.stringify({ data, meta: { attempt: 1 } })) };
}

function openDb(dataDir: string): Database.Database {
  return new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true, fileMustExist: true });
}

describe('kill -9 during group commits of webhooks', () => {
  const pool = makeDaemonProcessPool();
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.alloc(32, SEED_BYTE)]),
    format: 'der',
    type: 'pkcs8',
  });
  let simulator: Simulator;
  let dataDir: string;
  /** Requests of the current delivery sent and not yet answered. */
  let pending = 0;
  const inFlight = (): number => pending;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, timing: { stepMs: 20 } });
    // The simulator's own webhooks stay home: the test is Telnyx's webhook sender here.
    simulator.webhookMode('drop');
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-crash-webhooks-'));
  });
  afterAll(async () => {
    await pool.killAll();
    await simulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Posts every event, IN_FLIGHT at a time; `onAnswer` may kill the daemon. Unanswered ones get status 0. */
  async function deliver(
    port: number,
    events: PlannedEvent[],
    onAnswer: (status: number) => void = () => undefined,
  ): Promise<Map<PlannedEvent, number>> {
    const client = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
    const statuses = new Map<PlannedEvent, number>();
    let next = 0;
    pending = 0;
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const planned = events[next++]!;
        pending += 1;
        try {
          const response = await client.request({
            method: 'POST',
            path: '/webhooks/telnyx',
            headers: signedHeaders(key, planned.body),
            body: planned.body,
          });
          await response.body.dump();
          pending -= 1;
          statuses.set(planned, response.statusCode);
          onAnswer(response.statusCode);
        } catch {
          pending -= 1;
          statuses.set(planned, 0);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await client.destroy();
    return statuses;
  }

  it('every event answered 200 survives, the others are redelivered, each is acted on once', async () => {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const yaml = productionYaml({
      dataDir,
      smtpPort,
      httpPort,
      telnyxApiUrl: simulator.url,
      telnyxApiKey: API_KEY,
      telnyxPublicKey: makeWebhookKeyPair(SEED_BYTE).publicKeyBase64,
    });
    const first = await pool.start({ dir: dataDir, yaml });

    // Real jobs, placed at Telnyx and waiting for their final event.
    const numbers = Array.from({ length: JOBS }, (_, i) => `+1555330${String(i).padStart(4, '0')}`);
    const mail = await sendMail(smtpPort, {
      from: 'alice@example.com',
      to: numbers.map((number) => `${number}@fax.example.com`),
      subject: 'crash during group commit',
      text: 'fax this',
      attachments: [{ filename: 'doc.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(mail.code).toBe(250);
    await waitFor(
      () => {
        const db = openDb(dataDir);
        try {
          const row = db.prepare("SELECT count(*) AS n FROM jobs WHERE status = 'placed'").get() as {
            n: number;
          };
          return row.n === JOBS;
        } finally {
          db.close();
        }
      },
      60_000,
      'every job placed at Telnyx',
    );

    const jobEvents = simulator.faxes().map((fax) =>
      event('fax.delivered', {
        fax_id: fax.id,
        client_state: fax.clientState,
        status: 'delivered',
        direction: 'outbound',
        from: fax.from,
        to: fax.to,
        page_count: 1,
      }),
    );
    expect(jobEvents).toHaveLength(JOBS);
    const filler = Array.from({ length: FILLER }, () =>
      event('fax.delivered', { fax_id: randomUUID(), status: 'delivered', direction: 'outbound' }),
    );
    // Each job's event twice (Telnyx duplicates deliveries), spread through the flood.
    const flood = [...filler];
    for (const [index, planned] of [...jobEvents, ...jobEvents].entries()) {
      flood.splice(Math.floor(((index + 1) * flood.length) / (2 * JOBS + 1)), 0, planned);
    }

    let answered200 = 0;
    let killing: Promise<void> | undefined;
    let inFlightAtKill = 0;
    const before = await deliver(httpPort, flood, (status) => {
      if (status === 200) answered200 += 1;
      if (answered200 >= KILL_AFTER && !killing) {
        inFlightAtKill = inFlight();
        killing = first.kill('SIGKILL');
      }
    });
    expect(killing).toBeDefined();
    await killing;
    // Requests were waiting for their group's commit when the process died.
    expect(inFlightAtKill).toBeGreaterThan(0);
    const answeredIds = new Set([...before].filter(([, status]) => status === 200).map(([e]) => e.id));
    const unanswered = flood.filter((planned) => before.get(planned) !== 200);
    // The kill cut the flood: some events were answered, many were not.
    expect(answeredIds.size).toBeGreaterThanOrEqual(KILL_AFTER - JOBS);
    expect(unanswered.length).toBeGreaterThan(0);

    await pool.start({ dir: dataDir, yaml });
    // Before anything is redelivered: every event answered 200 was recorded.
    const recordedAfterCrash = new Set(
      (openDbRows(dataDir, 'SELECT id FROM webhook_events') as Array<{ id: string }>).map((row) => row.id),
    );
    const lost = [...answeredIds].filter((id) => !recordedAfterCrash.has(id));
    expect(lost).toEqual([]);

    // Telnyx redelivers what got no 200.
    const after = await deliver(httpPort, unanswered);
    expect([...after.values()].every((status) => status === 200)).toBe(true);

    const allIds = new Set(flood.map((planned) => planned.id));
    await waitFor(
      () => {
        const rows = openDbRows(
          dataDir,
          'SELECT count(*) AS n, sum(processed_at IS NULL) AS pending FROM webhook_events',
        ) as Array<{ n: number; pending: number }>;
        return rows[0]!.n === allIds.size && rows[0]!.pending === 0;
      },
      60_000,
      'every event recorded and processed',
    );
    const jobs = openDbRows(dataDir, 'SELECT id, status FROM jobs') as Array<{ id: string; status: string }>;
    expect(jobs.map((job) => job.status)).toEqual(Array(JOBS).fill('delivered'));
    const receipts = openDbRows(
      dataDir,
      "SELECT job_id, count(*) AS n FROM outbox WHERE kind = 'receipt_delivered' GROUP BY job_id",
    ) as Array<{ job_id: string; n: number }>;
    expect(receipts).toHaveLength(JOBS);
    expect(receipts.every((row) => row.n === 1)).toBe(true);
    const outcomes = openDbRows(
      dataDir,
      `SELECT outcome, count(*) AS n FROM webhook_events WHERE id IN (${jobEvents.map(() => '?').join(',')})
       GROUP BY outcome`,
      jobEvents.map((planned) => planned.id),
    ) as Array<{ outcome: string; n: number }>;
    expect(outcomes).toEqual([{ outcome: 'delivered', n: JOBS }]);
  }, 240_000);
});

function openDbRows(dataDir: string, sql: string, params: unknown[] = []): unknown[] {
  const db = openDb(dataDir);
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}
