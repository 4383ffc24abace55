import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { makeBenchMessage } from './lib/benchMessage.js';
import { makeBenchPdf } from './lib/benchPdf.js';
import { openDaemonDb } from './lib/daemonDb.js';
import { describeMachine, waitForIdleMachine } from './lib/machine.js';
import { MiB, mib, readProcSample, startChildPeakSampler, startRssSampler } from './lib/procStats.js';
import { runSmtpSource } from './lib/smtpSource.js';
import { BENCH_SENDER, startFaxbridge, type TelnyxMode } from './lib/startFaxbridge.js';
import { markdownTable } from './lib/stats.js';

/*
 * Memory: peak RSS of the daemon process (VmHWM) while one PDF just under the 50 MB fax limit passes
 * through: SMTP in (about 71 MB of base64), parse, check, store, 250, then Telnyx (the simulator) fetching it
 * from the media URL and the fax being delivered. Target: under 150 MiB, for the daemon and for each of the
 * processes it starts (the document sandbox's children), whose peaks are reported too.
 *
 * Usage: npm run build && node dist/bench/memory50mb.js [--telnyx sandbox,external] [--mib 49.9] [--runs 3]
 *        [--json FILE]
 */

const RECIPIENT = '+15551234567@fax.localhost';

interface MemoryFigures {
  telnyx: TelnyxMode;
  pdfBytes: number;
  idleRssMiB: number;
  hwmAfter250MiB: number;
  hwmAfterDeliveryMiB: number;
  /** When the RSS samples (every 50 ms) peaked, from the start of the SMTP transaction. */
  peakAtMs: number;
  smtpMs: number;
  deliveredMs: number;
  simulatorHwmMiB: number | null;
  /** The largest VmHWM of any process the daemon started (the document sandbox's children, converters). */
  childHwmMiB: number;
  /** Every child's VmHWM, in the order they started: `node:118.2 node:96.0 pdftoppm:31.5`. */
  children: string;
  rssTimeline: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      telnyx: { type: 'string', default: 'sandbox,external' },
      mib: { type: 'string', default: '49.9' },
      runs: { type: 'string', default: '3' },
      json: { type: 'string' },
      // One 200 KB fax through first: the 50 MB PDF then meets children that already did a small task.
      'small-first': { type: 'boolean', default: false },
    },
  });
  const workDir = mkdtempSync(path.join(tmpdir(), 'fb-bench-memory-'));
  try {
    const pdfFile = path.join(workDir, 'big.pdf');
    const started = performance.now();
    const pdf = await makeBenchPdf({ pages: 3, targetBytes: Math.floor(Number(values.mib) * MiB) });
    writeFileSync(pdfFile, pdf);
    const pdfBytes = pdf.length;
    const smallFile = path.join(workDir, 'small.eml');
    const small = await makeBenchPdf({ pages: 3, targetBytes: 200 * 1024 });
    writeFileSync(smallFile, makeBenchMessage({ pdf: small, from: BENCH_SENDER, to: RECIPIENT }));
    const messageFile = path.join(workDir, 'big.eml');
    writeFileSync(
      messageFile,
      makeBenchMessage({ pdf, from: BENCH_SENDER, to: RECIPIENT, filename: 'big.pdf' }),
    );
    const check = spawnSync('qpdf', ['--check', pdfFile], { encoding: 'utf8' });
    const checked = check.error
      ? 'qpdf not installed'
      : check.status === 0
        ? 'qpdf --check OK'
        : 'qpdf --check FAILED';
    console.log(
      `PDF ${pdfBytes} B (${mib(pdfBytes)} MiB), 3 pages, ${checked}, made in ${Math.round(performance.now() - started)} ms; message ${statSync(messageFile).size} B`,
    );

    const results: MemoryFigures[] = [];
    for (let run = 1; run <= Number(values.runs); run += 1) {
      for (const mode of values.telnyx.split(',') as TelnyxMode[]) {
        // A fresh daemon (and data dir) each time: VmHWM only ever grows.
        const dataDir = path.join(workDir, `daemon-${mode}-${run}`);
        const warmFile = values['small-first'] ? smallFile : null;
        const figures = await measureOnce(mode, messageFile, pdfBytes, dataDir, warmFile);
        console.log(`${mode} run ${run}: ${JSON.stringify(figures)}`);
        results.push(figures);
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    console.log(
      markdownTable([
        [
          'telnyx',
          'PDF MiB',
          'idle RSS MiB',
          'VmHWM after 250 MiB',
          'VmHWM after fetch+delivery MiB',
          'SMTP s',
          'peak at s',
          'simulator VmHWM MiB',
          'largest child VmHWM MiB',
        ],
        ...results.map((r) => [
          r.telnyx,
          mib(r.pdfBytes),
          r.idleRssMiB,
          r.hwmAfter250MiB,
          r.hwmAfterDeliveryMiB,
          (r.smtpMs / 1000).toFixed(1),
          (r.peakAtMs / 1000).toFixed(1),
          r.simulatorHwmMiB ?? '(in daemon)',
          r.childHwmMiB,
        ]),
      ]),
    );
    if (values.json)
      writeFileSync(values.json, JSON.stringify({ machine: describeMachine(), results }, null, 2));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function measureOnce(
  mode: TelnyxMode,
  messageFile: string,
  pdfBytes: number,
  dataDir: string,
  warmFile: string | null,
): Promise<MemoryFigures> {
  mkdirSync(dataDir, { recursive: true });
  // The default 70MB SIZE limit holds a 49.9 MiB PDF in base64 (~68 MiB) with little room; 80MB removes doubt.
  const faxbridge = await startFaxbridge({
    mode,
    dataDir,
    env: { FAXBRIDGE_SMTP__MAX_MESSAGE_SIZE: '80MB' },
  });
  const db = openDaemonDb(dataDir);
  const pid = faxbridge.daemon.pid;
  const before = warmFile ? 1 : 0;
  // One message, one new connection, from smtp-source in its own process (as in the ingest bench).
  const send = (file: string) =>
    runSmtpSource({
      port: faxbridge.daemon.smtpPort,
      sessions: 1,
      messages: 1,
      file,
      reuseConnections: false,
      from: BENCH_SENDER,
      to: RECIPIENT,
    });
  /** Until `count` faxes have ended (delivered or failed), or `timeoutMs`. */
  const faxesEnded = async (count: number, timeoutMs: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (db.counts().delivered + db.counts().failed < count && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    if (warmFile) {
      await send(warmFile);
      await faxesEnded(1, 60_000);
    }
    // Let start-up garbage settle so "idle" means idle (and wait out other sessions' load on this machine).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await waitForIdleMachine(180_000);
    const idle = readProcSample(pid);
    const sampler = startRssSampler(pid, 50);
    const childSampler = startChildPeakSampler(pid, 20);
    const measureStarted = performance.now();
    // The client is smtp-source in its own process, so this process only samples.
    const result = await send(messageFile);
    const smtpMs = result.wallMs;
    const after250 = readProcSample(pid);
    const queued = db.counts();
    if (result.exitCode !== 0 || result.stderr.trim() || queued.jobs !== before + 1) {
      throw new Error(`the daemon did not queue the 50 MB PDF: ${result.stderr} ${JSON.stringify(queued)}`);
    }

    // Telnyx (the simulator) fetches the media URL right after POST /v2/faxes; delivery follows a few steps later.
    await faxesEnded(before + 1, 180_000);
    const counts = db.counts();
    if (counts.delivered !== before + 1) {
      throw new Error(`the fax was not delivered: ${JSON.stringify(counts)}`);
    }
    const deliveredMs = performance.now() - measureStarted;
    const afterDelivery = readProcSample(pid);
    const samples = sampler.stop();
    const children = childSampler.stop().sort((a, b) => a.pid - b.pid);
    const peak = samples.reduce((best, s) => (s.rssBytes > best.rssBytes ? s : best), samples[0]!);
    return {
      telnyx: mode,
      pdfBytes,
      idleRssMiB: mib(idle.rssBytes),
      hwmAfter250MiB: mib(after250.hwmBytes),
      hwmAfterDeliveryMiB: mib(afterDelivery.hwmBytes),
      peakAtMs: peak.atMs,
      smtpMs: Math.round(smtpMs),
      deliveredMs: Math.round(deliveredMs),
      simulatorHwmMiB: faxbridge.simulator ? mib(readProcSample(faxbridge.simulator.pid).hwmBytes) : null,
      childHwmMiB: mib(Math.max(0, ...children.map((child) => child.hwmBytes))),
      children: children.map((child) => `${child.command}:${mib(child.hwmBytes)}`).join(' '),
      rssTimeline: timeline(samples),
    };
  } finally {
    db.close();
    await faxbridge.stop();
  }
}

/** RSS every ~second, "t=1.0s 180MiB", so the report shows which phase holds the memory. */
function timeline(samples: Array<{ atMs: number; rssBytes: number }>): string {
  const out: string[] = [];
  let next = 0;
  for (const sample of samples) {
    if (sample.atMs < next) continue;
    out.push(`${(sample.atMs / 1000).toFixed(1)}s:${Math.round(sample.rssBytes / MiB)}`);
    next = sample.atMs + 1000;
  }
  return out.join(' ');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
