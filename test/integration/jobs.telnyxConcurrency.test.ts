import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { startSimulator } from '../../src/simulator/index.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * How faxes are handed to Telnyx (docs/behaviour.md §4): at most `telnyx.concurrency` POST /faxes in progress
 * at once, and a 429 pauses every worker together until the wait Telnyx named has passed, so a burst of work
 * against a rate limit costs a handful of refused calls, not one per job and per retry.
 */

const SENDER = 'alice@example.com';
const POST_FAXES = 'POST /faxes';

/** One mail to `count` numbers: one job each, all queued by the same 250. */
async function queueJobs(env: TestDaemon, prefix: string, count: number): Promise<string[]> {
  const numbers = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
  const result = await sendMail(env.smtpPort, {
    from: SENDER,
    to: numbers.map((number) => `${number}@fax.localhost`),
    subject: 'drain test',
    text: 'fax this',
    attachments: [{ filename: 'doc.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
  });
  expect(result.code).toBe(250);
  return numbers;
}

const postsOf = (env: TestDaemon) =>
  env.simulator.requests().filter((r) => r.method === 'POST' && r.path === '/v2/faxes');

describe('faxes handed to Telnyx', () => {
  let env: TestDaemon | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('telnyx.concurrency is how many POST /faxes are in progress at once', async () => {
    // A slow Telnyx keeps every worker's call open long enough for the simulator to count them together.
    const simulator = await startSimulator({ timing: { stepMs: 20, apiLatencyMs: 600 } });
    try {
      env = await startTestDaemon({ simulator, yaml: 'telnyx:\n  concurrency: 6\n' });
      const numbers = await queueJobs(env, '+1555310', 14);
      await waitFor(() => simulator.faxes().length === numbers.length, 30_000, 'every fax created');
      expect(simulator.peakConcurrency(POST_FAXES)).toBe(6);
    } finally {
      await env?.stop();
      env = undefined;
      await simulator.close();
    }
  }, 60_000);

  it('a job still waiting for a slot when the daemon stops gives its lease back, untouched', async () => {
    // One call at a time, and Telnyx keeps the first past the 2 s shutdown grace: the other jobs are built and
    // wait for the slot when the stop comes.
    const simulator = await startSimulator({ timing: { stepMs: 20 } });
    simulator.injectResponses('POST /faxes', [{ hangMs: 30_000 }]);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-handoff-'));
    try {
      env = await startTestDaemon({ simulator, dataDir, yaml: 'telnyx:\n  concurrency: 1\n' });
      const numbers = await queueJobs(env, '+1555330', 3);
      const store = env.daemon.store;
      await waitFor(
        async () => {
          const jobs = await store.listJobs({ limit: 10 });
          const built = await Promise.all(jobs.map((job) => store.getTransmittedDocument(job.id)));
          const posting = await Promise.all(jobs.map((job) => store.listAttempts(job.id)));
          return built.every(Boolean) && posting.flat().length === 1;
        },
        30_000,
        'one fax in the call, the other two built and waiting',
      );
      await env.stop();
      env = undefined;

      const db = new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true });
      try {
        const rows = db
          .prepare('SELECT to_number, status, attempt, lease_owner FROM jobs ORDER BY to_number')
          .all() as { to_number: string; status: string; attempt: number; lease_owner: string | null }[];
        const attempted = new Set(
          (
            db.prepare('SELECT j.to_number FROM attempts a JOIN jobs j ON j.id = a.job_id').all() as {
              to_number: string;
            }[]
          ).map((row) => row.to_number),
        );
        expect(attempted.size).toBe(1);
        const waiting = rows.filter((row) => !attempted.has(row.to_number));
        expect(waiting).toHaveLength(numbers.length - 1);
        for (const row of waiting) {
          expect(row).toMatchObject({ status: 'queued', attempt: 0, lease_owner: null });
        }
      } finally {
        db.close();
      }
    } finally {
      await env?.stop();
      env = undefined;
      await simulator.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a 429 pauses all 16 workers until Retry-After; then every job gets exactly one fax', async () => {
    env = await startTestDaemon({ yaml: 'telnyx:\n  concurrency: 16\n' });
    const windowMs = 5_000;
    // The period starts with the first POST /faxes, so every worker meets it whatever the machine's pace.
    env.simulator.rateLimit(windowMs, { key: POST_FAXES });
    const numbers = await queueJobs(env, '+1555320', 40);

    await waitFor(
      async () => (await env!.daemon.store.countJobs('delivered')) === numbers.length,
      60_000,
      'every job delivered',
    );
    for (const number of numbers) {
      expect(env.simulator.faxes().filter((fax) => fax.to === number)).toHaveLength(1);
    }
    const posts = postsOf(env);
    const refused = posts.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    const windowEnd = refused[0]!.at + windowMs;
    // Only calls already on their way when the first 429 came back were refused (at most one per worker), not
    // one per job and per retry.
    expect(refused.length).toBeLessThanOrEqual(16);
    // Once the first 429 was answered, nothing more went out during the period (a probe at most).
    const settled = refused[0]!.at + 1_000;
    expect(posts.filter((r) => r.at > settled && r.at < windowEnd).length).toBeLessThanOrEqual(1);
    // After the period, the faxes went out; every POST after it was accepted.
    expect(posts.filter((r) => r.at >= windowEnd).every((r) => r.status === 202)).toBe(true);
  }, 90_000);
});
