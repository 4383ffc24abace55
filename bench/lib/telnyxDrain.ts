import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { openDocuments } from '../../src/cli/offline.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { queuePdf } from '../../src/jobs/queuePdf.js';
import { openStore } from '../../src/store/openStore.js';
import { freePort } from '../../test/helpers/freePort.js';
import { startDaemonChild } from './daemonChild.js';
import { SIMULATOR_API_KEY, startSimulatorChild } from './simulatorChild.js';

/*
 * Faxes handed to Telnyx per second: `jobs` faxes are queued before the daemon starts (with the code
 * `faxbridge send` runs: the document stored once, one job per number), then the real daemon (a child
 * process, production mode) drains the queue against the simulator in another process, which answers every
 * API call after `latencyMs` (real Telnyx takes a few hundred ms for POST /faxes). The figure is jobs ÷ the
 * time from the first attempt's start to the last fax accepted, read from the daemon's own attempt rows. Each
 * job's transmitted PDF (header lines on every page) is built on the way, as in production.
 *
 * The simulator's fax lifecycle is set far beyond the run (its media fetches and webhooks would otherwise
 * share the 2 cores with the daemon, which real Telnyx does not): this measures the handing over only.
 */
export interface DrainOptions {
  jobs: number;
  /** `telnyx.concurrency` of the daemon. */
  concurrency: number;
  latencyMs: number;
  pdf: Buffer;
}

export interface DrainFigures {
  concurrency: number;
  jobs: number;
  perSecond: number;
  /** First attempt started → last fax accepted by Telnyx. */
  drainMs: number;
  /** Daemon start → last fax accepted (includes start-up). */
  wallMs: number;
}

const NUMBERS_PER_MESSAGE = 50;
/** The simulated faxes' lifecycle steps: far beyond any run. */
const LIFECYCLE_STEP_MS = 10 * 60_000;
const SENDER = 'bench@example.com';

export async function measureDrain(options: DrainOptions): Promise<DrainFigures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-bench-drain-'));
  const simulator = await startSimulatorChild(LIFECYCLE_STEP_MS, options.latencyMs);
  try {
    const httpPort = await freePort();
    const yaml = [
      'telnyx:',
      `  concurrency: ${options.concurrency}`,
      'limits:',
      '  faxes_per_hour: 0',
      '  pages_per_day: 0',
      'senders:',
      `  - match: '*@example.com'`,
      `    from_number: '+15550002222'`,
    ].join('\n');
    const env = {
      TELNYX_API_URL: simulator.url,
      TELNYX_API_KEY: SIMULATOR_API_KEY,
      TELNYX_PUBLIC_KEY: simulator.publicKey,
      TELNYX_CONNECTION_ID: '1',
      FAXBRIDGE_HTTP__PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    };
    await queueJobs(dataDir, yaml, env, options);

    const started = Date.now();
    const daemon = await startDaemonChild({ dataDir, httpPort, yaml, env });
    try {
      const placed = await waitForAllPlaced(dataDir, options.jobs);
      const drainMs = placed.lastPlaced - placed.firstStarted;
      return {
        concurrency: options.concurrency,
        jobs: options.jobs,
        perSecond: Math.round((options.jobs / drainMs) * 1000 * 10) / 10,
        drainMs,
        wallMs: placed.lastPlaced - started,
      };
    } finally {
      await daemon.stop();
    }
  } finally {
    await simulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Queues the jobs as `faxbridge send` would, before any daemon runs: the whole queue is there at the start. */
async function queueJobs(
  dataDir: string,
  yaml: string,
  env: Record<string, string>,
  options: DrainOptions,
): Promise<void> {
  const file = path.join(dataDir, 'queue.yaml');
  writeFileSync(file, `data_dir: ${JSON.stringify(dataDir)}\n${yaml}\n`);
  const { config } = loadConfig(file, env);
  const store = await openStore(config.database.url);
  try {
    await store.migrate();
    const documents = await openDocuments(config);
    const work = path.join(dataDir, 'tmp');
    mkdirSync(work, { recursive: true });
    for (let done = 0; done < options.jobs; done += NUMBERS_PER_MESSAGE) {
      const count = Math.min(NUMBERS_PER_MESSAGE, options.jobs - done);
      const targets = Array.from({ length: count }, (_, i) => `+1555400${String(done + i).padStart(4, '0')}`);
      const pdf = path.join(work, `bench-${done}.pdf`);
      writeFileSync(pdf, options.pdf);
      await queuePdf(
        { config, store, documents, now: Date.now },
        { sender: SENDER, targets, file: pdf, filename: 'bench.pdf', subject: null, origin: 'bench' },
      );
    }
  } finally {
    await store.close();
  }
}

async function waitForAllPlaced(
  dataDir: string,
  jobs: number,
): Promise<{ firstStarted: number; lastPlaced: number }> {
  const db = new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true, fileMustExist: true });
  try {
    const read = db.prepare(
      'SELECT count(*) AS n, min(started_at) AS first, max(placed_at) AS last FROM attempts WHERE fax_id IS NOT NULL',
    );
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const row = read.get() as { n: number; first: number | null; last: number | null };
      if (row.n >= jobs) return { firstStarted: row.first!, lastPlaced: row.last! };
      if (Date.now() > deadline) throw new Error(`only ${row.n} of ${jobs} faxes handed to Telnyx in 15 min`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    db.close();
  }
}
