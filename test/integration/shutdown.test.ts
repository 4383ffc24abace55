import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openSqliteStore } from '../../src/store/sqlite/openSqliteStore.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { composeEml, pdfAttachment } from '../helpers/emlFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { openSmtpDialogue, toDataBytes, tryConnect } from '../helpers/smtpDialogue.js';
import { freePort, waitFor } from '../helpers/testDaemon.js';

/*
 * docs/behaviour.md §9: SIGTERM stops listening, answers 421 4.3.2 to new commands, gives DATA in progress
 * and the job in flight up to shutdown_grace, and exits 0; a second signal exits at once. The daemon is a
 * real child process in production mode; Telnyx is the simulator in this process.
 */
describe('graceful shutdown (daemon as a child process)', () => {
  const daemons = makeDaemonProcessPool();
  let simulator: Simulator;
  let dataDir: string;

  beforeEach(async () => {
    simulator = await startSimulator({ timing: { stepMs: 20 } });
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-shutdown-'));
  });
  afterEach(async () => {
    await daemons.killAll();
    await simulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startDaemon(grace: string) {
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const daemon = await daemons.start({
      dir: dataDir,
      yaml: productionYaml({
        dataDir,
        smtpPort,
        httpPort,
        telnyxApiUrl: simulator.url,
        telnyxPublicKey: simulator.publicKey,
        extra: `shutdown_grace: ${grace}`,
      }),
    });
    return { daemon, smtpPort };
  }

  /** A session in DATA with the first half of the message sent; returns the rest to send later. */
  async function beginTransfer(smtpPort: number, to: string) {
    const session = await openSmtpDialogue(smtpPort);
    expect(await session.reply()).toMatch(/^220 /);
    expect(await session.command('EHLO client.example.com')).toMatch(/^250/);
    expect(await session.command('MAIL FROM:<alice@example.com>')).toMatch(/^250/);
    expect(await session.command(`RCPT TO:<${to}@fax.example.com>`)).toMatch(/^250/);
    expect(await session.command('DATA')).toMatch(/^354/);
    const eml = await composeEml({
      from: 'alice@example.com',
      to: `${to}@fax.example.com`,
      messageId: `<shutdown-${Date.now()}@example.com>`,
      attachments: [pdfAttachment(await makePdf(2, { label: 'shutdown' }))],
    });
    const data = toDataBytes(eml);
    const half = Math.floor(data.length / 2);
    session.write(data.slice(0, half));
    return { session, rest: `${data.slice(half)}\r\n.\r\n` };
  }

  it('finishes the transfer in progress with 250, sends its fax, refuses new connections, exits 0', async () => {
    const { daemon, smtpPort } = await startDaemon('15s');
    const { session, rest } = await beginTransfer(smtpPort, '+15551230001');

    daemon.child.kill('SIGTERM');
    await waitFor(() => /"msg":"shutting down/.test(daemon.output()), 5000, 'shutdown logged');

    // The listener closes: a new client is never served (one that slipped into the accept queue as shutdown
    // began is reset), and soon cannot even connect (its MTA retries later).
    const late = await tryConnect(smtpPort);
    expect(late).toHaveProperty('refused');
    await waitFor(
      async () => {
        const again = await tryConnect(smtpPort);
        expect(again).not.toHaveProperty('greeting');
        return 'refused' in again && again.refused === 'ECONNREFUSED';
      },
      5000,
      'new connections refused',
    );

    session.write(rest);
    const reply = await session.reply();
    expect(reply).toMatch(/^250 2\.0\.0 Queued [A-Za-z0-9_-]{8,40} \+15551230001$/);
    const jobId = reply.split(' ')[3]!;

    // The job accepted during the grace is sent before the process leaves.
    await waitFor(() => simulator.faxes().find((fax) => fax.to === '+15551230001'), 10_000, 'fax sent');

    // A new command in the same session is answered 421 4.3.2 and the session is closed.
    expect(await session.command('MAIL FROM:<alice@example.com>')).toMatch(/^421 4\.3\.2 /);
    session.close();

    const exit = await daemon.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.output()).toMatch(/"msg":"stopped"/);

    const store = await openSqliteStore(path.join(dataDir, 'faxbridge.db'));
    try {
      const job = await store.getJob(jobId);
      expect(job?.status).toBe('placed');
      expect((await store.listAttempts(jobId))[0]?.fax_id).toBeTruthy();
    } finally {
      await store.close();
    }
  });

  it('answers 421 4.3.2 to a connected idle session and exits 0', async () => {
    const { daemon, smtpPort } = await startDaemon('3s');
    const idle = await openSmtpDialogue(smtpPort);
    expect(await idle.reply()).toMatch(/^220 /);
    daemon.child.kill('SIGTERM');
    await waitFor(() => /"msg":"shutting down/.test(daemon.output()), 5000, 'shutdown logged');
    expect(await idle.command('EHLO client.example.com')).toMatch(/^421 4\.3\.2 /);
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    idle.close();
  });

  it('exits at once on a second signal, even with a transfer in progress', async () => {
    const { daemon, smtpPort } = await startDaemon('60s');
    const { session } = await beginTransfer(smtpPort, '+15551230002');
    daemon.child.kill('SIGTERM');
    await waitFor(() => /"msg":"shutting down/.test(daemon.output()), 5000, 'shutdown logged');
    // The grace is 60 s, longer than this test may run: exiting at all is exiting at once.
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code).toBe(1);
    expect(daemon.output()).toMatch(/second signal: exiting at once/);
    session.close();
  });
});
