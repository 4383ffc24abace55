import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { makeBenchMessage } from './lib/benchMessage.js';
import { makeBenchPdf } from './lib/benchPdf.js';
import { childCpuByScript, readProcSample, subtractCpu, treeCpuMs } from './lib/procStats.js';
import { runSmtpSource } from './lib/smtpSource.js';
import { BENCH_SENDER, startFaxbridge } from './lib/startFaxbridge.js';

/**
 * A CPU profile of the daemon's accept path: `external` mode with a slow simulator (its events come after the
 * run), connections reused, then the hottest functions by self time. Not a measurement of speed: bench/ingest.ts
 * is. Usage: node dist/bench/profileIngest.js [MESSAGES] [PROFILE_DIR]
 */
const messages = Number(process.argv[2] ?? 300);
const profileDir = process.argv[3] ?? mkdtempSync(path.join(tmpdir(), 'fb-prof-'));
const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-prof-data-'));
const pdf = await makeBenchPdf({ pages: 3, targetBytes: 200 * 1024 });
const file = path.join(dataDir, 'msg.eml');
writeFileSync(file, makeBenchMessage({ pdf, from: BENCH_SENDER, to: '+15551234567@fax.localhost' }));
const under = await startFaxbridge({
  mode: 'external',
  dataDir,
  stepMs: 60_000,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
});
const run = (count: number) =>
  runSmtpSource({
    port: under.daemon.smtpPort,
    sessions: 8,
    messages: count,
    file,
    reuseConnections: true,
    from: BENCH_SENDER,
    to: '+15551234567@fax.localhost',
  });
await run(50);
const before = readProcSample(under.daemon.pid).cpuMs;
const treeBefore = treeCpuMs(under.daemon.pid);
const childrenBefore = childCpuByScript(under.daemon.pid);
const result = await run(messages);
const children = subtractCpu(childCpuByScript(under.daemon.pid), childrenBefore);
const cpu = readProcSample(under.daemon.pid).cpuMs - before;
const treeCpu = treeCpuMs(under.daemon.pid) - treeBefore;
process.stdout.write(
  `${messages} msgs in ${result.wallMs.toFixed(0)} ms = ${((messages * 1000) / result.wallMs).toFixed(1)} msg/s; daemon CPU ${(cpu / messages).toFixed(2)} ms/msg, with its children ${(treeCpu / messages).toFixed(2)}; rc=${result.exitCode} ${result.stderr.slice(0, 200)}\n`,
);
process.stdout.write(
  `children, CPU ms/msg: ${[...children].map(([script, ms]) => `${script} ${(ms / messages).toFixed(2)}`).join(', ')}\n`,
);
await under.stop();
const profile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
if (profile) summarise(JSON.parse(readFileSync(path.join(profileDir, profile), 'utf8')) as CpuProfile);

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

function summarise(prof: CpuProfile): void {
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url.replace(/^.*node_modules\//, 'nm:').replace(/^.*dist\//, '');
    const key = `${frame.functionName || '(anon)'} ${where}:${frame.lineNumber}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const module = frame.url.includes('node_modules/')
      ? `nm:${frame.url.split('node_modules/')[1]!.split('/')[0]}`
      : frame.url
        ? where.split('/').slice(0, 2).join('/')
        : frame.functionName;
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const show = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .forEach(([key, us]) =>
        process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`),
      );
  // Node's own and native frames charged to the nearest caller in a package or in our code: who caused the work.
  const parent = new Map<number, number>();
  for (const node of prof.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const moduleOf = (url: string): string | null =>
    url.includes('node_modules/')
      ? `nm:${url.split('node_modules/')[1]!.split('/')[0]}`
      : url.includes('dist/')
        ? url
            .replace(/^.*dist\//, '')
            .split('/')
            .slice(0, 3)
            .join('/')
        : null;
  const byCaller = new Map<string, number>();
  for (const [id, us] of self) {
    let at: number | undefined = id;
    let owner: string | null = null;
    while (at !== undefined && !owner) {
      owner = moduleOf(byId.get(at)!.callFrame.url);
      at = parent.get(at);
    }
    const key = owner ?? byId.get(id)!.callFrame.functionName;
    byCaller.set(key, (byCaller.get(key) ?? 0) + us);
  }
  process.stdout.write('--- by nearest package or project file (Node internals charged to their caller)\n');
  show(byCaller, 30);
  process.stdout.write('--- by module\n');
  show(byModule, 25);
  process.stdout.write('--- by function\n');
  show(byFunction, 40);
}
