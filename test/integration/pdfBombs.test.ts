import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MB } from '../../src/lib/units.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type DaemonProcess, makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { peakRss, startHealthProbe } from '../helpers/healthProbe.js';
import {
  contentStreamBombPdf,
  hugeCountPdf,
  makePdf,
  millionsOfObjectsPdf,
  pageTreeCyclePdf,
  twoLayerObjectStreamPdf,
} from '../helpers/pdfFixtures.js';
import { freePort, sendMail } from '../helpers/testDaemon.js';

/*
 * PDFs built to freeze or bloat a reader, sent by SMTP to the daemon running as its own process: each is refused
 * at end of DATA as too complex to fax, no job is created, /healthz keeps answering while it is being read, and
 * the daemon's own peak memory stays near its normal size (the parsing happens in the sandbox's child processes,
 * which are killed at their limits).
 */

const API_KEY = 'pdf-bomb-test-key';
/** A liveness bound, far above a normal answer (a few ms) and far below a frozen loop (the old code: 20 s). */
const SLOWEST_PROBE_MS = 1000;
/** The daemon idles near 100–150 MB; a bomb parsed in its process took it to 3.2 GB. */
const DAEMON_PEAK_RSS = 450 * MB;

const hostile: Array<[string, () => Promise<Buffer> | Buffer]> = [
  ['a 4 KB object stream filtered twice with Flate (2 GB inside)', () => twoLayerObjectStreamPdf()],
  [
    'the same with #-escaped names (/Obj#53tm, /Fl#61teDecode)',
    () => twoLayerObjectStreamPdf({ escapedNames: true }),
  ],
  ['a content stream that expands to 2 GB', () => contentStreamBombPdf()],
  ['a page tree claiming 2,147,483,647 pages', () => hugeCountPdf()],
  ['a page tree that contains itself', () => pageTreeCyclePdf()],
  ['6 million objects in one object stream', () => millionsOfObjectsPdf()],
];

function jobCount(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('hostile PDFs against the running daemon', () => {
  const pool = makeDaemonProcessPool();
  let simulator: Simulator;
  let dataDir: string;
  let daemon: DaemonProcess;
  let smtpPort: number;
  let httpUrl: string;

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, timing: { stepMs: 20 } });
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-pdfbombs-'));
    smtpPort = await freePort();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    daemon = await pool.start({
      dir: dataDir,
      yaml: productionYaml({
        dataDir,
        smtpPort,
        httpPort,
        telnyxApiUrl: simulator.url,
        telnyxPublicKey: simulator.publicKey,
        telnyxApiKey: API_KEY,
      }),
    });
  });
  afterAll(async () => {
    await pool.killAll();
    await simulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(hostile)(
    '%s: 554 5.6.0 too complex to fax, no job, /healthz answers',
    async (_name, make) => {
      const pdf = await make();
      expect(pdf.length).toBeLessThan(64 * 1024);
      const probe = startHealthProbe(httpUrl);
      const outcome = await sendMail(smtpPort, {
        from: 'alice@example.com',
        to: '+15557000404@fax.example.com',
        subject: 'Invoice',
        text: 'Please see the attachment.',
        attachments: [{ filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' }],
      });
      const health = await probe.stop();
      expect(outcome.response).toMatch(
        /^554 5\.6\.0 invoice\.pdf is too complex to fax \(.+\); print it to a new PDF and send that instead$/,
      );
      expect(health.failures).toEqual([]);
      expect(health.probes).toBeGreaterThan(0);
      expect(health.slowestMs).toBeLessThan(SLOWEST_PROBE_MS);
      expect(jobCount(dataDir)).toBe(0);
      expect(await peakRss(daemon.pid)).toBeLessThan(DAEMON_PEAK_RSS);
    },
    120_000,
  );

  it('still faxes an ordinary PDF afterwards', async () => {
    const outcome = await sendMail(smtpPort, {
      from: 'alice@example.com',
      to: '+15557000405@fax.example.com',
      subject: 'Contract',
      attachments: [{ filename: 'contract.pdf', content: await makePdf(3), contentType: 'application/pdf' }],
    });
    expect(outcome.response).toMatch(/^250 2\.0\.0 Queued /);
    expect(jobCount(dataDir)).toBe(1);
  });
});
