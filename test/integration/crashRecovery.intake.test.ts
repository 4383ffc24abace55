import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { isRunning, mimeReaderPids } from '../helpers/mimeReaderProcesses.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeWebhookKeyPair } from '../helpers/signWebhook.js';
import { freePort, sendMail, waitFor } from '../helpers/testDaemon.js';

/*
 * kill -9 in the middle of group commits of accepted mails (docs/behaviour.md §3 "A 250 is a promise"): on SQLite
 * the daemon stores several accepted mails per transaction and answers each 250 only after that transaction
 * committed. Mails from many SMTP sessions at once are cut by SIGKILL while some wait for their reply. After the
 * restart every job named in a 250 is in the store and is faxed exactly once; a mail that got no reply may or
 * may not have been stored (its sender retries), but whatever was stored is faxed once, never twice.
 */

const SEED_BYTE = 62;
const API_KEY = 'crash-intake-key';
/** SMTP sessions sending at once: the mails waiting for their group's commit when the kill comes. */
const SESSIONS = 12;
const MAILS = 120;
/** The kill comes once this many mails were answered 250. */
const KILL_AFTER = 25;

function openDbRows(dataDir: string, sql: string): unknown[] {
  const db = new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('kill -9 during group commits of accepted mails', () => {
  const pool = makeDaemonProcessPool();
  let simulator: Simulator;
  let dataDir: string;

  beforeAll(async () => {
    simulator = await startSimulator({
      apiKey: API_KEY,
      timing: { stepMs: 20 },
      signingSeed: new Uint8Array(32).fill(SEED_BYTE),
    });
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-crash-intake-'));
  });
  afterAll(async () => {
    await pool.killAll();
    await simulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('every job named in a 250 survives and is faxed once; nothing stored is faxed twice', async () => {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const yaml = productionYaml({
      dataDir,
      smtpPort,
      httpPort,
      telnyxApiUrl: simulator.url,
      telnyxApiKey: API_KEY,
      telnyxPublicKey: makeWebhookKeyPair(SEED_BYTE).publicKeyBase64,
      extra: [
        'limits: { faxes_per_hour: 0, pages_per_day: 0 }',
        // Webhooks the simulator sent while the daemon was down are lost: the daemon asks Telnyx soon instead.
        'retry:',
        '  final_event_timeout: 2s',
        // Telnyx could not fetch the media of a fax placed just before the kill: retried soon, not in 2 minutes.
        '  delays: { busy: 1s, no_answer: 1s, dropped: 1s, channel_limit: 1s }',
      ].join('\n'),
    });
    const first = await pool.start({ dir: dataDir, yaml });
    const pdf = await makePdf(1);

    /** Job ids named in 250 replies, by the number they fax. */
    const promised = new Map<string, string>();
    let waiting = 0;
    let waitingAtKill = 0;
    let readersAtKill: number[] = [];
    let killing: Promise<void> | undefined;
    let next = 0;
    const session = async (): Promise<void> => {
      while (next < MAILS && !killing) {
        const number = `+1555440${String(next++).padStart(4, '0')}`;
        waiting += 1;
        const outcome = await sendMail(smtpPort, {
          from: 'alice@example.com',
          to: `${number}@fax.example.com`,
          subject: `crash during intake ${number}`,
          text: 'fax this',
          attachments: [{ filename: 'doc.pdf', content: pdf, contentType: 'application/pdf' }],
        });
        waiting -= 1;
        const queued = /^250 2\.0\.0 Queued (\S+) (\+\d+)$/.exec(outcome.response);
        if (queued) promised.set(queued[2]!, queued[1]!);
        if (promised.size >= KILL_AFTER && !killing) {
          waitingAtKill = waiting;
          readersAtKill = mimeReaderPids(first.pid);
          killing = first.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: SESSIONS }, session));
    expect(killing).toBeDefined();
    await killing;
    // Other sessions were in the middle of their transaction (or waiting for its commit) when the process died.
    expect(waitingAtKill).toBeGreaterThan(0);
    // Its MIME readers, reading those sessions' mails, do not outlive it: they end when their channel closes.
    expect(readersAtKill.length).toBeGreaterThan(0);
    await waitFor(() => readersAtKill.every((pid) => !isRunning(pid)), 10_000, 'the readers to end');

    await pool.start({ dir: dataDir, yaml });
    const stored = openDbRows(dataDir, 'SELECT id, to_number FROM jobs') as Array<{
      id: string;
      to_number: string;
    }>;
    const storedIds = new Set(stored.map((job) => job.id));
    expect([...promised.values()].filter((id) => !storedIds.has(id))).toEqual([]);

    await waitFor(
      () => {
        const rows = openDbRows(
          dataDir,
          "SELECT count(*) AS n FROM jobs WHERE status = 'delivered'",
        ) as Array<{
          n: number;
        }>;
        return rows[0]!.n === stored.length;
      },
      120_000,
      'every stored job delivered',
    ).catch((error: unknown) => {
      const statuses = openDbRows(
        dataDir,
        "SELECT status, attempt, last_error FROM jobs WHERE status != 'delivered'",
      );
      throw new Error(`${(error as Error).message}: ${JSON.stringify(statuses)}`);
    });
    // One delivered fax per stored job, none for anything else, none twice (a fax whose media could not be
    // fetched while the daemon was down failed, and its job placed another: that is a retry, not a double).
    const deliveredTo = simulator
      .faxes()
      .filter((fax) => fax.direction === 'outbound' && fax.status === 'delivered')
      .map((fax) => fax.to)
      .sort();
    expect(deliveredTo).toEqual(stored.map((job) => job.to_number).sort());
    const attempts = openDbRows(
      dataDir,
      'SELECT job_id, attempt, count(*) AS n FROM attempts GROUP BY 1, 2',
    ) as Array<{
      n: number;
    }>;
    expect(attempts.every((row) => row.n === 1)).toBe(true);
    // Telnyx faxes each attempt at most once.
    const placed = simulator
      .faxes()
      .filter((fax) => fax.direction === 'outbound')
      .map((fax) => fax.clientState);
    expect(new Set(placed).size).toBe(placed.length);
  }, 240_000);
});
