import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import type { JobStore, NewMessage, Transition } from '../src/store/jobStore.js';
import { openStore } from '../src/store/openStore.js';
import { makeBenchPdf } from './lib/benchPdf.js';
import { describeMachine } from './lib/machine.js';
import { markdownTable, median, medianRange, round } from './lib/stats.js';
import { measureDrain } from './lib/telnyxDrain.js';

/*
 * Two figures of the job queue, chosen with --mode:
 *
 * --mode drain (default): faxes handed to Telnyx per second, 500 queued, 300 ms API latency, the real daemon
 * against the simulator in another process, once per `telnyx.concurrency` in --concurrency (see
 * lib/telnyxDrain.ts for the method). The target is at least 40/s.
 *
 *   npm run build && node dist/bench/jobsPerSecond.js [--jobs 500] [--latency 300] [--concurrency 4,16] [--runs 3]
 *
 * --mode store: jobs per second through the store alone: N jobs are queued with acceptMessage, then every
 * instance runs K claimer loops (claimJobs, then completeWork to `delivered` with its attempt row and receipt)
 * until nothing is left. No Telnyx, no SMTP: this is the ceiling the job table puts on the daemon.
 *
 * Each instance is its own process (child_process.fork) with its own store, as two daemons would be. Scenarios:
 * SQLite with one instance, PostgreSQL with one and with two instances; the ratio of the last two is the
 * scaling. The run also checks what it measures: every job delivered, each claimed exactly once.
 *
 *   npm run build && node dist/bench/jobsPerSecond.js --mode store [--jobs 5000] [--claimers 4] [--batch 10]
 *     [--runs 3] [--pg postgres://postgres@127.0.0.1:5432/test]
 */

interface Options {
  mode: 'drain' | 'store';
  /** Default 500 (drain) or 5000 (store). */
  jobs: number;
  /** Drain: milliseconds the simulated Telnyx takes for every API answer. */
  latency: number;
  /** Drain: the `telnyx.concurrency` values to compare, e.g. `4,16`. */
  concurrency: string;
  claimers: number;
  batch: number;
  runs: number;
  pg: string;
}

interface Scenario {
  name: string;
  dialect: 'sqlite' | 'postgres';
  instances: number;
}

/** What a worker process reports when its claim loops ran dry. */
interface WorkerDone {
  type: 'done';
  claimed: string[];
}

const LEASE_MS = 60_000;
const JOBS_PER_MESSAGE = 10;
const SELF = fileURLToPath(import.meta.url);

function parseOptions(argv: string[]): Options {
  const options: Options = {
    mode: 'drain',
    jobs: 0,
    latency: 300,
    concurrency: '4,16',
    claimers: 4,
    batch: 10,
    runs: 3,
    pg: 'postgres://postgres@127.0.0.1:5432/test',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as keyof Options | undefined;
    const value = argv[i + 1];
    if (!key || value === undefined || !(key in options)) throw new Error(`unknown option ${argv[i]}`);
    const text = key === 'pg' || key === 'mode' || key === 'concurrency';
    (options as unknown as Record<string, unknown>)[key] = text ? value : Number(value);
  }
  if (options.mode !== 'drain' && options.mode !== 'store') throw new Error('--mode is drain or store');
  if (options.jobs === 0) options.jobs = options.mode === 'drain' ? 500 : 5000;
  return options;
}

/** A fresh database for one run: a new SQLite file, or a new PostgreSQL schema. */
async function freshDatabase(dialect: Scenario['dialect'], options: Options) {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-'));
    return {
      url: `sqlite:${path.join(dir, 'bench.db')}`,
      drop: async () => rmSync(dir, { recursive: true }),
    };
  }
  const schema = `fb_bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(options.pg);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), drop: () => admin(options.pg, `DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}

async function admin(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function enqueue(store: JobStore, jobs: number): Promise<void> {
  const now = Date.now();
  for (let done = 0; done < jobs; done += JOBS_PER_MESSAGE) {
    const count = Math.min(JOBS_PER_MESSAGE, jobs - done);
    const documentId = `doc_${randomBytes(8).toString('hex')}`;
    const messageId = `msg_${randomBytes(8).toString('hex')}`;
    const message: NewMessage = {
      document: {
        id: documentId,
        storage_key: `${documentId}.pdf`,
        sha256: '0'.repeat(64),
        size: 100_000,
        pages: 2,
        filename: 'bench.pdf',
        created_at: now,
      },
      message: {
        id: messageId,
        sender: 'bench@example.com',
        sender_name: null,
        envelope_from: null,
        message_id: null,
        subject: null,
        references_json: '[]',
        document_id: documentId,
        session_id: null,
        received_at: now,
      },
      jobs: Array.from({ length: count }, (_, i) => ({
        id: `fx_${randomBytes(8).toString('hex')}`,
        to_number: `+1555${String(1_000_000 + done + i)}`,
        from_number: '+15550001111',
      })),
      max_attempts: 3,
      accepted_receipt: false,
    };
    await store.acceptMessage(message, now);
  }
}

/** One timed run: fork the instances, let them get ready, start them together, wait for all to run dry. */
async function runOnce(scenario: Scenario, options: Options): Promise<number> {
  const database = await freshDatabase(scenario.dialect, options);
  try {
    const store = await openStore(database.url);
    await enqueue(store, options.jobs);
    await store.close();

    const children = Array.from({ length: scenario.instances }, (_, index) =>
      fork(SELF, [
        '--worker',
        database.url,
        `bench-${index}`,
        String(options.claimers),
        String(options.batch),
      ]),
    );
    const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    await Promise.all(children.map((child) => nextMessage(child, 'ready')));
    const started = performance.now();
    children.forEach((child) => child.send('go'));
    const results = (await Promise.all(children.map((child) => nextMessage(child, 'done')))) as WorkerDone[];
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(exited);

    const claimed = results.flatMap((result) => result.claimed);
    const check = await openStore(database.url);
    const delivered = await check.countJobs('delivered');
    await check.close();
    if (
      claimed.length !== options.jobs ||
      new Set(claimed).size !== options.jobs ||
      delivered !== options.jobs
    ) {
      throw new Error(
        `${scenario.name}: ${claimed.length} claims (${new Set(claimed).size} distinct), ${delivered} delivered, ` +
          `expected ${options.jobs} of each`,
      );
    }
    return options.jobs / seconds;
  } finally {
    await database.drop();
  }
}

function nextMessage(child: ChildProcess, type: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

/** The instance: K claimer loops sharing one store (one pg Pool, or one SQLite connection). */
async function worker(url: string, owner: string, claimers: number, batch: number): Promise<void> {
  const store = await openStore(url);
  process.send!({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const claimed: string[] = [];
  await Promise.all(
    Array.from({ length: claimers }, async (_, loop) => {
      const me = `${owner}-${loop}`;
      for (;;) {
        const jobs = await store.claimJobs(me, Date.now(), LEASE_MS, batch);
        if (jobs.length === 0) return;
        for (const job of jobs) {
          claimed.push(job.id);
          if (!(await store.completeWork(job.id, me, finished(Date.now()), Date.now()))) {
            throw new Error(`lease of ${job.id} lost`);
          }
        }
      }
    }),
  );
  await store.close();
  process.send!({ type: 'done', claimed } satisfies WorkerDone, () => process.exit(0));
}

/** What a delivered job writes in the daemon: the job, its attempt row and the receipt, in one transaction. */
function finished(now: number): Transition {
  return {
    job: { status: 'delivered', run_at: null, attempt: 1, finished_at: now, pages_sent: 2 },
    attempt: { attempt: 1, client_state: 'YmVuY2g=', state: 'delivered', ended_at: now, pages: 2 },
    outbox: [{ kind: 'receipt_delivered' }],
  };
}

/** Faxes handed to Telnyx per second for each concurrency, runs interleaved. */
async function drainMain(options: Options): Promise<void> {
  const load = () => os.loadavg().map((value) => round(value, 2));
  console.log(JSON.stringify({ machine: describeMachine(), load: load(), options }, null, 2));
  const concurrencies = options.concurrency.split(',').map(Number);
  const pdf = await makeBenchPdf({ pages: 3, targetBytes: 200_000, label: 'drain' });
  const rates = new Map<number, number[]>();
  for (let run = 0; run < options.runs; run++) {
    for (const concurrency of concurrencies) {
      const figures = await measureDrain({
        jobs: options.jobs,
        concurrency,
        latencyMs: options.latency,
        pdf,
      });
      rates.set(concurrency, [...(rates.get(concurrency) ?? []), figures.perSecond]);
      console.log(`run ${run + 1}: ${JSON.stringify({ ...figures, load: load() })}`);
    }
  }
  const rows: Array<Array<string | number>> = [
    ['telnyx.concurrency', 'jobs queued', 'API latency ms', 'faxes handed to Telnyx/s median (min–max)'],
  ];
  for (const concurrency of concurrencies) {
    rows.push([concurrency, options.jobs, options.latency, medianRange(rates.get(concurrency)!, 1)]);
  }
  console.log(`\n${markdownTable(rows)}`);
  console.log(`load average after: ${load().join(', ')}`);
}

async function main(options: Options): Promise<void> {
  const settings = await admin(
    options.pg,
    `SELECT version() AS version, current_setting('synchronous_commit') AS synchronous_commit,
            current_setting('fsync') AS fsync, current_setting('max_connections') AS max_connections`,
  );
  // Other work on the machine moves these figures a lot (2 cores here): the load is printed with them.
  const load = os.loadavg().map((value) => round(value, 2));
  console.log(JSON.stringify({ machine: describeMachine(), load, postgres: settings[0], options }, null, 2));

  const scenarios: Scenario[] = [
    { name: 'SQLite, 1 instance', dialect: 'sqlite', instances: 1 },
    { name: 'PostgreSQL, 1 instance', dialect: 'postgres', instances: 1 },
    { name: 'PostgreSQL, 2 instances', dialect: 'postgres', instances: 2 },
  ];
  const rates = new Map<string, number[]>();
  for (let run = 0; run < options.runs; run++) {
    // Interleaved, so that a slow moment of the machine does not land on one scenario only.
    for (const scenario of scenarios) {
      const rate = await runOnce(scenario, options);
      rates.set(scenario.name, [...(rates.get(scenario.name) ?? []), rate]);
      console.log(`run ${run + 1}: ${scenario.name}: ${Math.round(rate)} jobs/s`);
    }
  }
  const pgOne = median(rates.get('PostgreSQL, 1 instance')!);
  const rows: Array<Array<string | number>> = [
    ['store', 'instances', 'claimers each', 'jobs/s median (min–max)'],
  ];
  for (const scenario of scenarios) {
    rows.push([scenario.name, scenario.instances, options.claimers, medianRange(rates.get(scenario.name)!)]);
  }
  console.log(`\n${markdownTable(rows)}`);
  const scaling = median(rates.get('PostgreSQL, 2 instances')!) / pgOne;
  console.log(`\nPostgreSQL scaling, 2 instances / 1 instance: ${round(scaling, 2)}×`);
  console.log(
    `load average after: ${os
      .loadavg()
      .map((value) => round(value, 2))
      .join(', ')}`,
  );
}

if (process.argv[2] === '--worker') {
  const [url, owner, claimers, batch] = process.argv.slice(3);
  await worker(url!, owner!, Number(claimers), Number(batch));
} else {
  const options = parseOptions(process.argv.slice(2));
  await (options.mode === 'drain' ? drainMain(options) : main(options));
}
