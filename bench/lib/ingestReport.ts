import type { TelnyxMode } from './startFaxbridge.js';
import { markdownTable, median, medianRange, round } from './stats.js';

/** The ingest benchmark's figures and how they are printed (bench/ingest.ts measures them). */
export interface RunFigures {
  server: 'bare' | 'faxbridge';
  wallMs: number;
  msgPerSec: number;
  cpuMsPerMsg: number;
  /** faxbridge only: CPU from the start of the run until its faxes were delivered and receipts written. */
  cpuMsPerMsgWithBackground?: number;
  drainMs?: number;
  accepted: number;
  /** Share of the machine's cores busy just before the run (other sessions share this machine). */
  busyBefore: number;
  /** Share of all cores used during the run by processes not part of the measurement. */
  othersShare: number;
  /** smtp-source's CPU time for the run, ms. */
  clientCpuMs: number | null;
  problems: string[];
}

export interface VariantFigures {
  telnyx: TelnyxMode;
  conn: 'new' | 'reuse';
  runs: RunFigures[];
}

export function printVariant(variant: VariantFigures): void {
  const rate = (server: RunFigures['server']) =>
    median(variant.runs.filter((r) => r.server === server).map((r) => r.msgPerSec));
  const ratio = rate('faxbridge') / rate('bare');
  console.log(
    `${variant.telnyx}/${variant.conn}: faxbridge ${rate('faxbridge')} msg/s, bare ${rate('bare')} msg/s, ratio ${round(ratio * 100, 0)}%`,
  );
}

export function summaryTable(variants: VariantFigures[], bytesPerMessage: number, sessions: number): string {
  const rows: Array<Array<string | number>> = [
    [
      'telnyx',
      'conn',
      'server',
      'msg/s median (min–max)',
      'MB/s',
      '× bare',
      'CPU ms/msg (accept window)',
      'CPU ms/msg incl. background',
      'accept→all delivered s',
      'all 250?',
    ],
  ];
  for (const variant of variants) {
    const bareRate = median(variant.runs.filter((r) => r.server === 'bare').map((r) => r.msgPerSec));
    for (const server of ['bare', 'faxbridge'] as const) {
      const runs = variant.runs.filter((r) => r.server === server);
      const rates = runs.map((r) => r.msgPerSec);
      const rate = median(rates);
      rows.push([
        variant.telnyx,
        `${variant.conn === 'new' ? 'new/msg' : 'reuse -d'} s=${sessions}`,
        server,
        medianRange(rates),
        round((rate * bytesPerMessage) / 1e6, 0),
        round(rate / bareRate, 2),
        median(runs.map((r) => r.cpuMsPerMsg)),
        server === 'faxbridge' ? median(runs.map((r) => r.cpuMsPerMsgWithBackground ?? NaN)) : '–',
        server === 'faxbridge' ? round(median(runs.map((r) => r.drainMs ?? NaN)) / 1000, 1) : '–',
        runs.every((r) => r.problems.length === 0) ? 'yes' : runs.flatMap((r) => r.problems).join('; '),
      ]);
    }
  }
  return markdownTable(rows);
}
