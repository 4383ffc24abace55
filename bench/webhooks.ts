import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import pino from 'pino';

import { loadConfig } from '../src/config/loadConfig.js';
import { startDaemon } from '../src/daemon.js';
import { makeLogger } from '../src/log.js';
import { startSimulator } from '../src/simulator/index.js';
import { watchContention } from './lib/contention.js';
import { openDaemonDb, waitForQuiet } from './lib/daemonDb.js';
import { describeMachine, waitForIdleMachine } from './lib/machine.js';
import { round } from './lib/stats.js';
import { type LoadResult, runWebhookLoad } from './lib/webhookLoad.js';

/*
 * Signed Telnyx webhooks per second through the full HTTP path (POST /webhooks/telnyx: raw body,
 * Ed25519 check, JSON, durable insert with SQLite synchronous=FULL, 200, then processing after the answer) on
 * this 2-core machine, target ≥ 1,000/s, and the daemon's event-loop delay while they run.
 *
 * The daemon runs in this process (startDaemon, real config, info-level JSON log to a file as in production),
 * so its event loop can be watched with monitorEventLoopDelay; the load comes from a separate process.
 *
 * Usage: npm run build && node dist/bench/webhooks.js [--concurrency 32] [--seconds 10] [--warmup 3]
 *        [--events 120000] [--runs 3] [--rate 0] [--json FILE] [--idle-wait 180]
 * --rate N offers N requests/s instead of sending as fast as answers return, to read the event-loop delay at a
 * load below saturation.
 */

/** monitorEventLoopDelay records the interval between its timer's runs; the delay is what exceeds this. */
const LOOP_RESOLUTION_MS = 2;
/** A run during which other sessions used more than this share of the machine is repeated (at most 3 tries). */
const MAX_OTHERS_SHARE = 0.1;
const MAX_ATTEMPTS = 3;

interface RunFigures extends LoadResult {
  loopDelayMs: { p50: number; p99: number; max: number; mean: number };
  eventLoopUtilization: number;
  cpuMsPerWebhook: number;
  /** Event-loop busy time per webhook: the main thread's share (the signature check runs on libuv's pool). */
  loopMsPerWebhook: number;
  processedAllWithinMs: number;
  recorded: number;
  busyBefore: number;
  othersShare: number;
  outcomes: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      concurrency: { type: 'string', default: '32' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      events: { type: 'string', default: '120000' },
      runs: { type: 'string', default: '3' },
      rate: { type: 'string', default: '0' },
      json: { type: 'string' },
      // How long to wait for the machine to calm down before each run; a shared machine may never.
      'idle-wait': { type: 'string', default: '180' },
    },
  });
  const runs: RunFigures[] = [];
  for (let run = 1; run <= Number(values.runs); run += 1) {
    for (let attempt = 1; ; attempt += 1) {
      const figures = await measureOnce({
        concurrency: Number(values.concurrency),
        durationMs: Number(values.seconds) * 1000,
        warmupMs: Number(values.warmup) * 1000,
        events: Number(values.events),
        rate: Number(values.rate),
        idleWaitMs: Number(values['idle-wait']) * 1000,
      });
      const spoiled = figures.othersShare > MAX_OTHERS_SHARE;
      const note = spoiled
        ? ` DISCARDED (other sessions used ${Math.round(figures.othersShare * 100)}%)`
        : '';
      console.log(`run ${run}${note}: ${JSON.stringify(figures)}`);
      if (!spoiled || attempt >= MAX_ATTEMPTS) {
        runs.push(figures);
        break;
      }
    }
  }
  const line = (r: RunFigures) =>
    `| ${r.perSecond} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} | ${r.loopDelayMs.p50} | ${r.loopDelayMs.p99} | ${r.loopDelayMs.max} | ${r.eventLoopUtilization} | ${r.cpuMsPerWebhook} | ${r.loopMsPerWebhook} | ${Math.round(r.othersShare * 100)}% | ${JSON.stringify(r.statuses)} |`;
  console.log(
    [
      `\nconcurrency ${values.concurrency}, ${Number(values.rate) > 0 ? `offered ${values.rate}/s` : 'closed loop'}, ${values.seconds} s timed after ${values.warmup} s warm-up, one fresh daemon per run`,
      '| accepted/s | p50 ms | p99 ms | max ms | loop delay p50 ms | p99 ms | max ms | ELU | CPU ms/webhook | loop ms/webhook | others | statuses |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...runs.map(line),
    ].join('\n'),
  );
  if (values.json) writeFileSync(values.json, JSON.stringify({ machine: describeMachine(), runs }, null, 2));
}

async function measureOnce(options: {
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  events: number;
  rate: number;
  idleWaitMs: number;
}): Promise<RunFigures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-bench-webhooks-'));
  const seed = randomBytes(32);
  // Nothing is sent to the simulator; it is here for its signing key, as in sandbox mode.
  const simulator = await startSimulator({ signingSeed: new Uint8Array(seed) });
  const configFile = path.join(dataDir, 'faxbridge.yaml');
  writeFileSync(
    configFile,
    `data_dir: ${JSON.stringify(dataDir)}\nsmtp:\n  listen: 127.0.0.1:0\nhttp:\n  listen: 127.0.0.1:0\n`,
  );
  const { config } = loadConfig(configFile, {});
  const logFile = path.join(dataDir, 'daemon.log');
  const log = makeLogger({ level: 'info' }, pino.destination({ dest: logFile, sync: false }));
  const daemon = await startDaemon({
    config,
    log,
    telnyx: { apiUrl: simulator.url, apiKey: '', publicKey: simulator.publicKey },
  });
  const db = openDaemonDb(dataDir);
  try {
    const busyBefore = await waitForIdleMachine(options.idleWaitMs);
    const histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    let elu = performance.eventLoopUtilization();
    let cpu = process.cpuUsage();
    let watch = watchContention([]);
    const result = await runWebhookLoad(
      {
        url: `${daemon.http.url}/webhooks/telnyx`,
        seedHex: seed.toString('hex'),
        events: options.events,
        concurrency: options.concurrency,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        rate: options.rate,
      },
      () => {
        // Timed window starts: forget the warm-up.
        histogram.reset();
        histogram.enable();
        elu = performance.eventLoopUtilization();
        cpu = process.cpuUsage();
        watch = watchContention([]);
      },
    );
    const contention = watch.stop(result.clientCpuMs);
    histogram.disable();
    const usedElu = performance.eventLoopUtilization(elu);
    const usedCpu = process.cpuUsage(cpu);
    const quiet = await waitForQuiet(db, 120_000);
    const counts = db.counts();
    const outcomes = db.eventOutcomes();
    const delay = (ns: number) => round(Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS), 2);
    const figures: RunFigures = {
      ...result,
      loopDelayMs: {
        p50: delay(histogram.percentile(50)),
        p99: delay(histogram.percentile(99)),
        max: delay(histogram.max),
        mean: delay(histogram.mean),
      },
      eventLoopUtilization: round(usedElu.utilization, 2),
      cpuMsPerWebhook: round((usedCpu.user + usedCpu.system) / 1000 / result.timedRequests, 3),
      loopMsPerWebhook: round(usedElu.active / result.timedRequests, 3),
      processedAllWithinMs: round(quiet.ms, 0),
      busyBefore: round(busyBefore, 2),
      othersShare: round(contention.othersShare, 2),
      recorded: counts.events,
      outcomes,
    };
    if (
      counts.events !== result.okTotal ||
      counts.unprocessedEvents !== 0 ||
      outcomes.unknown_fax !== counts.events
    ) {
      console.log(`!! store disagrees: ${JSON.stringify({ counts, outcomes, ok: result.okTotal })}`);
    }
    const errors = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"level":"error"')).length;
    if (errors > 0) console.log(`!! ${errors} error lines in ${logFile}`);
    return figures;
  } finally {
    db.close();
    await daemon.stop(5000);
    await simulator.close();
    log.flush();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
