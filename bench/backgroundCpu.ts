import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { buildTransmittedTask } from '../src/documents/sandbox/wireTasks.js';
import { renderFirstPage } from '../src/documents/wire/renderFirstPage.js';
import { makeBenchPdf } from './lib/benchPdf.js';

/*
 * The CPU a fax costs after its 250, per fax, measured in this process as a warm sandbox child would spend it:
 * the transmitted PDF (header line on every page of the ingest bench's 3-page 200 KB PDF, no cover page, as the
 * default config) built by the sandbox task itself, then the receipt's first-page preview. CPU time, not wall
 * time: user + system of this process (libvips' threads included) and of the children it waited for (pdftoppm),
 * so the figure holds on a busy machine. One warm-up round first (fonts, pdf-lib, sharp loaded).
 *
 * Usage: npm run build && node dist/bench/backgroundCpu.js [--runs 40]
 */
const { values } = parseArgs({ options: { runs: { type: 'string', default: '40' } } });
const runs = Number(values.runs);

const dir = await mkdtemp(path.join(tmpdir(), 'faxbridge-bgcpu-'));
const documentPath = path.join(dir, 'document.pdf');
await writeFile(documentPath, await makeBenchPdf({ pages: 3, targetBytes: 200 * 1024 }));

let round = 0;
async function build(): Promise<string> {
  round += 1;
  const outputPath = path.join(dir, `transmitted-${round}.pdf`);
  const built = await buildTransmittedTask(
    {
      documentPath,
      outputPath,
      headerText: '{date} {time}  FROM: {from_name}  {from_number}  TO: {to_number}  P.{page}/{pages}',
      header: {
        date: '2026-12-06',
        time: '08:00 UTC',
        from_name: 'Example Dental',
        from_number: '+15550001111',
        to_number: '+15557654321',
      },
      cover: null,
    },
    { log: undefined as never },
  );
  if (!built.ok) throw new Error(built.message);
  return outputPath;
}

/** CPU of this process and of its reaped children (pdftoppm), ms. */
function cpuMs(): { own: number; children: number } {
  const usage = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 (cutime) and 17 (cstime) of stat(5), in clock ticks of 10 ms.
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  return { own: (usage.user + usage.system) / 1000, children };
}

try {
  const pngPath = path.join(dir, 'page.png');
  const warm = await build();
  if (!(await renderFirstPage(warm, pngPath))) throw new Error('no preview: is pdftoppm installed?');
  let buildMs = 0;
  let previewOwnMs = 0;
  let previewChildMs = 0;
  let previewBytes = 0;
  for (let run = 0; run < runs; run += 1) {
    const a = cpuMs();
    const output = await build();
    const b = cpuMs();
    const drawn = await renderFirstPage(output, pngPath);
    const c = cpuMs();
    buildMs += b.own - a.own;
    previewOwnMs += c.own - b.own;
    previewChildMs += c.children - b.children;
    previewBytes = drawn ? (await stat(pngPath)).size : 0;
    await rm(output);
  }
  const per = (total: number) => Math.round((total / runs) * 10) / 10;
  console.log(
    JSON.stringify({
      runs,
      buildCpuMs: per(buildMs),
      previewOwnCpuMs: per(previewOwnMs),
      previewPdftoppmCpuMs: per(previewChildMs),
      totalCpuMsPerFax: per(buildMs + previewOwnMs + previewChildMs),
      previewBytes,
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
