import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeFixtureDir, read } from '../helpers/documentFixtures.js';
import { type GotenbergStandIn, startGotenbergStandIn } from '../helpers/gotenbergStandIn.js';
import { startHealthProbe } from '../helpers/healthProbe.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * The Office converter's limits, seen from the sender's side over real SMTP: a conversion that does not finish
 * within documents.convert_timeout is refused naming the file (554), while the daemon keeps answering; a burst of
 * Office files beyond what may run and wait at once is told to come back later (451), so the sending server
 * retries. The converter is a Gotenberg stand-in that holds requests unanswered, as one whose LibreOffice hangs.
 * No fax is sent and no job is made in any of these.
 */
const TO = '+15551234567@fax.localhost';
/** startSmtp.ts: 2 Office conversions at once, 8 waiting. */
const RUNNING = 2;
const WAITING = 8;

let dir: string;
let docx: Buffer;
let gotenberg: GotenbergStandIn;

beforeAll(async () => {
  dir = makeFixtureDir();
  // A DOCX by its parts (what faxbridge recognises it by); the stand-in never opens it.
  const parts = join(dir, 'docx');
  mkdirSync(join(parts, 'word'), { recursive: true });
  writeFileSync(join(parts, '[Content_Types].xml'), '<?xml version="1.0"?><Types/>');
  writeFileSync(join(parts, 'word', 'document.xml'), '<?xml version="1.0"?><w:document/>');
  execFileSync('zip', ['-q', '-r', join(dir, 'Letter.docx'), '[Content_Types].xml', 'word'], { cwd: parts });
  docx = read(join(dir, 'Letter.docx'));
  gotenberg = await startGotenbergStandIn();
  gotenberg.hold = true;
});
afterAll(async () => {
  await gotenberg?.close();
  rmSync(dir, { recursive: true, force: true });
});

const docxMail = (subject: string) => ({
  from: 'alice@example.com',
  to: TO,
  subject,
  attachments: [{ filename: 'Letter.docx', content: docx }],
});

async function jobCount(env: TestDaemon): Promise<number> {
  return (await env.daemon.store.listJobs({ limit: 1000 })).length;
}

describe('an Office conversion past documents.convert_timeout', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      yaml: `header:\n  enabled: false\ndocuments:\n  office: ${gotenberg.url}\n  convert_timeout: 1s\n`,
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('is refused with 554 5.6.0 naming the file, /healthz answering meanwhile, no fax', async () => {
    const probe = startHealthProbe(env.httpUrl);
    const result = await sendMail(env.smtpPort, docxMail('Slow letter'));
    const health = await probe.stop();
    expect(result.code).toBe(554);
    expect(result.response).toBe('554 5.6.0 Letter.docx took longer than 1 s to convert');
    expect(health.failures).toEqual([]);
    expect(health.probes).toBeGreaterThan(0);
    expect(health.slowestMs).toBeLessThan(1000);
    expect(await jobCount(env)).toBe(0);
    expect(env.simulator.faxes()).toEqual([]);
  });
});

describe('more Office files at once than may run and wait', () => {
  let env: TestDaemon;
  const sink = new PassThrough();
  let waits = 0;
  sink.on('data', (chunk: Buffer) => {
    waits += chunk.toString('utf8').split('Office conversion waits for a free converter').length - 1;
  });
  beforeAll(async () => {
    env = await startTestDaemon({
      yaml: `header:\n  enabled: false\ndocuments:\n  office: ${gotenberg.url}\n  convert_timeout: 5m\n`,
      // Eleven sessions from one address at once.
      smtpYaml: 'max_clients_per_address: 20',
      logDestination: sink,
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('tells the next sender 451 4.3.0 to try again later, and sends no fax', async () => {
    const burst = Array.from({ length: RUNNING + WAITING }, (_, i) =>
      sendMail(env.smtpPort, docxMail(`Letter ${i + 1}`)),
    );
    await waitFor(() => gotenberg.held === RUNNING && waits === WAITING, 60_000, 'the converter full');
    const result = await sendMail(env.smtpPort, docxMail('One too many'));
    expect(result.code).toBe(451);
    expect(result.response).toBe(
      '451 4.3.0 Letter.docx cannot be converted right now: the Office converter is busy with other documents; please try again later',
    );

    // The converter gives up on the held ones (503): each of them is told to try later too.
    gotenberg.hold = false;
    gotenberg.unavailable = true;
    gotenberg.releaseHeld();
    const answers = await Promise.all(burst);
    expect(answers.map((answer) => answer.code)).toEqual(Array(RUNNING + WAITING).fill(451));
    expect(await jobCount(env)).toBe(0);
    expect(env.simulator.faxes()).toEqual([]);
  });
});
