import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { describeMachine } from './lib/machine.js';
import { mib, readProcSample } from './lib/procStats.js';
import { startFaxbridge, type TelnyxMode } from './lib/startFaxbridge.js';
import { markdownTable } from './lib/stats.js';

/*
 * Idle memory: the daemon's resident memory (VmRSS) a few seconds after `faxbridge start`, before any mail, in
 * production mode (API key set, Telnyx stood in for by the simulator in another process) and in sandbox mode
 * (the simulator inside the daemon). What it measures is mostly code: every module loaded at start stays
 * resident, so this is what loading libraries only when they are used buys. Target: production under 80 MiB.
 *
 * Usage: npm run build && node dist/bench/idleRss.js [--telnyx external,sandbox] [--runs 3] [--settle-ms 3000]
 *        [--json FILE]
 */

interface IdleFigures {
  telnyx: TelnyxMode;
  run: number;
  rssMiB: number;
  hwmMiB: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      telnyx: { type: 'string', default: 'external,sandbox' },
      runs: { type: 'string', default: '3' },
      'settle-ms': { type: 'string', default: '3000' },
      json: { type: 'string' },
    },
  });
  const workDir = mkdtempSync(path.join(tmpdir(), 'fb-bench-idle-'));
  const results: IdleFigures[] = [];
  try {
    for (let run = 1; run <= Number(values.runs); run += 1) {
      for (const mode of values.telnyx.split(',') as TelnyxMode[]) {
        const dataDir = path.join(workDir, `daemon-${mode}-${run}`);
        mkdirSync(dataDir, { recursive: true });
        const faxbridge = await startFaxbridge({ mode, dataDir });
        try {
          // Start-up garbage (config parsing, migrations) is collected within a second or two of quiet.
          await new Promise((resolve) => setTimeout(resolve, Number(values['settle-ms'])));
          const sample = readProcSample(faxbridge.daemon.pid);
          const figures = { telnyx: mode, run, rssMiB: mib(sample.rssBytes), hwmMiB: mib(sample.hwmBytes) };
          console.log(JSON.stringify(figures));
          results.push(figures);
        } finally {
          await faxbridge.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
    console.log(
      markdownTable([
        ['telnyx', 'run', 'idle VmRSS MiB', 'VmHWM at start MiB'],
        ...results.map((r) => [
          r.telnyx === 'external' ? 'production (external)' : r.telnyx,
          r.run,
          r.rssMiB,
          r.hwmMiB,
        ]),
      ]),
    );
    if (values.json)
      writeFileSync(values.json, JSON.stringify({ machine: describeMachine(), results }, null, 2));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
