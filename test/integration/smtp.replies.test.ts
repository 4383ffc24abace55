import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MB } from '../../src/lib/units.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { composeEml } from '../helpers/emlFixtures.js';
import { encryptPdf, garbagePdf, makePdf, skipWithoutQpdf, truncatePdf } from '../helpers/pdfFixtures.js';
import {
  freePort,
  sendMail,
  type SmtpOutcome,
  startTestDaemon,
  type TestDaemon,
  waitFor,
} from '../helpers/testDaemon.js';

/*
 * One test per row of docs/behaviour.md §3's reply table: the exact reply and enhanced code, and that nothing
 * was queued or faxed (no job row, no fax at the simulator).
 */

const JOB_ID = '[A-Za-z0-9_-]{8,40}';
const DOMAIN = 'fax.localhost';

/** A bare SMTP dialogue over a socket, for what nodemailer will not say (SIZE=, null sender, the greeting). */
interface RawSmtp {
  greeting: string;
  /** Sends one line and resolves with the whole reply (several lines for EHLO). */
  command(line: string): Promise<string>;
  /** Sends a message body after DATA's 354, dot-stuffed, and resolves with the final reply. */
  data(message: Buffer): Promise<string>;
  close(): void;
}

async function rawSmtp(port: number, replyTimeoutMs = 20_000): Promise<RawSmtp> {
  const socket: Socket = connect(port, '127.0.0.1');
  let buffer = '';
  const waiting: Array<(reply: string) => void> = [];
  const replies: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    // A reply is complete at a line "NNN text" (continuation lines are "NNN-text").
    for (let match = /^(?:\d{3}-.*\r\n)*\d{3}(?: .*)?\r\n/.exec(buffer); match;) {
      buffer = buffer.slice(match[0].length);
      const reply = match[0].trimEnd();
      const next = waiting.shift();
      if (next) next(reply);
      else replies.push(reply);
      match = /^(?:\d{3}-.*\r\n)*\d{3}(?: .*)?\r\n/.exec(buffer);
    }
  });
  socket.on('error', () => undefined);
  const nextReply = () =>
    new Promise<string>((resolve, reject) => {
      const queued = replies.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error(`no SMTP reply; buffer: ${buffer}`)), replyTimeoutMs);
      waiting.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  const greeting = await nextReply();
  return {
    greeting,
    command(line) {
      socket.write(`${line}\r\n`);
      return nextReply();
    },
    data(message) {
      const text = message.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      socket.write(Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1'));
      socket.write('.\r\n');
      return nextReply();
    },
    close() {
      socket.destroy();
    },
  };
}

/** Jobs and faxes before an action, to show afterwards that it queued and sent nothing. */
async function countsOf(env: TestDaemon) {
  return {
    jobs: (await env.daemon.store.listJobs({ limit: 100_000 })).length,
    faxes: env.simulator.faxes().length,
  };
}

async function expectNothingQueued(env: TestDaemon, before: { jobs: number; faxes: number }) {
  expect(await countsOf(env)).toEqual(before);
}

/**
 * How long a test waits for an accepted fax to reach the simulator. The first fax of a fresh daemon starts its
 * sandbox children (pdf-lib and the header line's fonts: ~1 s of CPU), which under a whole suite on 2 cores took
 * 8–13 s: the default 10 s was too tight. The tests assert that the fax goes out, not how fast.
 */
const FAX_SENT_WITHIN = 30_000;

async function pdfMail(
  port: number,
  to: string | string[],
  attachments: Array<{ filename: string; content: Buffer; contentType?: string }>,
  extra: Record<string, unknown> = {},
): Promise<SmtpOutcome> {
  return sendMail(port, {
    from: 'alice@example.com',
    to,
    subject: 'Fax',
    text: 'Please fax the attachment',
    attachments: attachments.map((a) => ({ contentType: 'application/pdf', ...a })),
    ...extra,
  });
}

describe('SMTP replies (sandbox daemon, max_recipients 2)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      env: { FAXBRIDGE_SMTP__MAX_RECIPIENTS: '2', FAXBRIDGE_SMTP__MAX_MESSAGE_SIZE: '100MB' },
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('accepted: 250 2.0.0 Queued <job-id> <+E164>, and the fax goes out', async () => {
    const result = await pdfMail(env.smtpPort, `555-700-0001@${DOMAIN}`, [
      { filename: 'a.pdf', content: await makePdf(1) },
    ]);
    expect(result.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000001$`));
    await waitFor(() => env.simulator.faxes().find((fax) => fax.to === '+15557000001'), FAX_SENT_WITHIN);
  });

  it('a relay attempt is refused at RCPT with 550 5.7.1', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
      const reply = await smtp.command('RCPT TO:<bob@gmail.com>');
      expect(reply).toMatch(/^550 5\.7\.1 /);
      expect(reply).toContain('gmail.com');
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it.each([
    ['letters', 'faxme', /"faxme".*letters/],
    ['too short', '12345', /"12345".*too few digits/],
    ['a blocked prefix', '+19005551234', /\+19005551234 .*blocked/],
    ['a country not allowed', '+442071234567', /\+442071234567 .*GB/],
  ])('a number with %s is refused at RCPT with 550 5.1.1 naming it', async (_what, local, why) => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      await smtp.command('MAIL FROM:<alice@example.com>');
      const reply = await smtp.command(`RCPT TO:<${local}@${DOMAIN}>`);
      expect(reply).toMatch(/^550 5\.1\.1 /);
      expect(reply).toMatch(why);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it('more than max_recipients: the third gets 452 4.5.3, the first two are faxed', async () => {
    const jobsBefore = (await env.daemon.store.listJobs({ limit: 100_000 })).length;
    const result = await pdfMail(
      env.smtpPort,
      [`+15557000011@${DOMAIN}`, `+15557000012@${DOMAIN}`, `+15557000013@${DOMAIN}`],
      [{ filename: 'a.pdf', content: await makePdf(1) }],
    );
    expect(result.rejected).toEqual([`+15557000013@${DOMAIN}`]);
    expect(result.rejectedResponses).toHaveLength(1);
    expect(result.rejectedResponses[0]).toMatch(/^452 4\.5\.3 /);
    expect(result.response).toMatch(
      new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000011, ${JOB_ID} \\+15557000012$`),
    );
    expect((await env.daemon.store.listJobs({ limit: 100_000 })).length).toBe(jobsBefore + 2);
    const faxed = await waitFor(() => {
      const to = env.simulator
        .faxes()
        .map((fax) => fax.to)
        .filter((number) => number.startsWith('+1555700001'));
      return to.length === 2 ? to.sort() : null;
    }, FAX_SENT_WITHIN);
    expect(faxed).toEqual(['+15557000011', '+15557000012']);
  });

  it('the null sender is refused at RCPT for a fax recipient with 550 5.7.1', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      expect(await smtp.command('MAIL FROM:<>')).toMatch(/^250 /);
      expect(await smtp.command(`RCPT TO:<+15557000021@${DOMAIN}>`)).toMatch(/^550 5\.7\.1 /);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it('SIZE= over max_message_size is refused at MAIL with 552 5.3.4', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      expect(await smtp.command('EHLO client.example.com')).toMatch(/^250[- ]SIZE 104857600$/m);
      expect(await smtp.command('MAIL FROM:<alice@example.com> SIZE=999999999')).toMatch(/^552 5\.3\.4 /);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it('no document (a CSV and an unknown binary): 550 5.6.0 listing what was found, with advice', async () => {
    const before = await countsOf(env);
    const result = await pdfMail(env.smtpPort, `+15557000031@${DOMAIN}`, [
      { filename: 'report.csv', content: Buffer.from('a,b\n1,2\n'), contentType: 'text/csv' },
      {
        filename: 'drawing.dwg',
        content: Buffer.from([0, 1, 2, 0xfe, 0, 0x99]),
        contentType: 'application/acad',
      },
    ]);
    expect(result.response).toMatch(/^550 5\.6\.0 No document found in the message /);
    expect(result.response).toContain('report.csv');
    expect(result.response).toContain('drawing.dwg');
    expect(result.response).toContain('attach the document as a PDF, a photo, a scan or an Office file');
    await expectNothingQueued(env, before);
  });

  it.each([
    ['garbage after the header', 'broken.pdf', () => Promise.resolve(garbagePdf())],
    ['truncated', 'cut.pdf', async () => truncatePdf(await makePdf(3, { padBytes: 4096 }), 0.5)],
  ])('an unreadable PDF (%s): 554 5.6.0 naming the file', async (_what, filename, make) => {
    const before = await countsOf(env);
    const result = await pdfMail(env.smtpPort, `+15557000041@${DOMAIN}`, [
      { filename, content: await make() },
    ]);
    expect(result.response).toMatch(new RegExp(`^554 5\\.6\\.0 .*${filename.replace('.', '\\.')}`));
    await expectNothingQueued(env, before);
  });

  it.skipIf(skipWithoutQpdf)('a PDF that needs a password to open: 554 5.6.0', async () => {
    const before = await countsOf(env);
    const locked = await encryptPdf(await makePdf(2), { userPassword: 'secret', ownerPassword: 'owner' });
    const result = await pdfMail(env.smtpPort, `+15557000051@${DOMAIN}`, [
      { filename: 'locked.pdf', content: locked },
    ]);
    expect(result.response).toMatch(/^554 5\.6\.0 locked\.pdf .*password/);
    await expectNothingQueued(env, before);
  });

  it.skipIf(skipWithoutQpdf)('a PDF with only an owner password: 250 and faxed', async () => {
    const restricted = await encryptPdf(await makePdf(2), { userPassword: '', ownerPassword: 'owner' });
    const result = await pdfMail(env.smtpPort, `+15557000052@${DOMAIN}`, [
      { filename: 'statement.pdf', content: restricted },
    ]);
    expect(result.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000052$`));
    const fax = await waitFor(
      () => env.simulator.faxes().find((f) => f.to === '+15557000052' && f.documentPages),
      FAX_SENT_WITHIN,
    );
    expect(fax.documentPages).toBe(2);
  });

  it('a PDF of more than 350 pages: 554 5.6.0 naming the file and the count', async () => {
    const before = await countsOf(env);
    const result = await pdfMail(env.smtpPort, `+15557000061@${DOMAIN}`, [
      { filename: 'tome.pdf', content: await makePdf(351) },
    ]);
    expect(result.response).toMatch(/^554 5\.6\.0 tome\.pdf .*351 pages/);
    await expectNothingQueued(env, before);
  });

  it('a PDF over 50 MB: 554 5.6.0 naming the file and the size', async () => {
    const before = await countsOf(env);
    const result = await pdfMail(env.smtpPort, `+15557000071@${DOMAIN}`, [
      { filename: 'huge.pdf', content: await makePdf(1, { padBytes: 51 * MB }) },
    ]);
    expect(result.response).toMatch(/^554 5\.6\.0 huge\.pdf .*MB/);
    await expectNothingQueued(env, before);
  }, 120_000);

  it('the same Message-ID from the same sender again: 250 with the same jobs, no second fax', async () => {
    // The same bytes both times: a resend carries the very document (another one would be a new fax).
    const pdf = await makePdf(1);
    const message = () =>
      pdfMail(env.smtpPort, `+15557000081@${DOMAIN}`, [{ filename: 'a.pdf', content: pdf }], {
        messageId: '<resent-1@example.com>',
      });
    const first = await message();
    expect(first.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000081$`));
    await waitFor(() => env.simulator.faxes().find((fax) => fax.to === '+15557000081'), FAX_SENT_WITHIN);
    const second = await message();
    expect(second.response).toBe(first.response);
    // A later message is the barrier: a second fax for the first number would have been placed before its.
    const later = await pdfMail(env.smtpPort, `+15557000082@${DOMAIN}`, [
      { filename: 'b.pdf', content: await makePdf(1) },
    ]);
    expect(later.response).toMatch(/^250 /);
    await waitFor(() => env.simulator.faxes().find((fax) => fax.to === '+15557000082'), FAX_SENT_WITHIN);
    expect(env.simulator.faxes().filter((fax) => fax.to === '+15557000081')).toHaveLength(1);
    const jobs = await env.daemon.store.listJobs({ limit: 100_000 });
    expect(jobs.filter((job) => job.to_number === '+15557000081')).toHaveLength(1);
  });

  it('a quoted number with spaces and brackets is read as the number, and faxed', async () => {
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
      expect(await smtp.command(`RCPT TO:<"+1 (555) 700-0093"@${DOMAIN}>`)).toMatch(/^250 /);
      // A quoted local part that is no number is still refused by our check, naming it.
      expect(await smtp.command(`RCPT TO:<"call me"@${DOMAIN}>`)).toMatch(/^550 5\.1\.1 .*callme.*letters/);
      expect(await smtp.command('DATA')).toMatch(/^354 /);
      const eml = await composeEml({
        from: 'alice@example.com',
        to: `"+1 (555) 700-0093"@${DOMAIN}`,
        subject: 'Quoted',
        attachments: [{ filename: 'q.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
      });
      expect(await smtp.data(eml)).toMatch(new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000093$`));
    } finally {
      smtp.close();
    }
    await waitFor(() => env.simulator.faxes().find((fax) => fax.to === '+15557000093'), FAX_SENT_WITHIN);
  });

  it('swaks to a quoted number with spaces gets 250', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-swaks-'));
    try {
      const file = path.join(dir, 'swaks.pdf');
      writeFileSync(file, await makePdf(1));
      const args = ['--server', `127.0.0.1:${env.smtpPort}`, '--from', 'alice@example.com'];
      args.push('--to', `"+1 (555) 700-0094"@${DOMAIN}`, '--attach-type', 'application/pdf');
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
        execFile('swaks', [...args, '--attach', `@${file}`], { timeout: 30_000 }, (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve({ stdout: out }),
        );
      });
      expect(stdout).toMatch(new RegExp(`<- {2}250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000094`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('swaks sending a PDF attachment gets 250', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-swaks-'));
    try {
      const file = path.join(dir, 'swaks.pdf');
      writeFileSync(file, await makePdf(2));
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
        // Asynchronous on purpose: the daemon answering swaks runs in this process.
        execFile(
          'swaks',
          [
            '--server',
            `127.0.0.1:${env.smtpPort}`,
            '--from',
            'alice@example.com',
            '--to',
            // swaks reads an argument starting with "+" as an option, so the national form with its 1.
            `15557000091@${DOMAIN}`,
            '--attach-type',
            'application/pdf',
            '--attach',
            `@${file}`,
          ],
          { timeout: 30_000 },
          (error, out, err) =>
            error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve({ stdout: out }),
        );
      });
      expect(stdout).toMatch(new RegExp(`<- {2}250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000091`));
      await waitFor(() => env.simulator.faxes().find((fax) => fax.to === '+15557000091'), FAX_SENT_WITHIN);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SMTP replies with a small max_message_size (200KB)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({ env: { FAXBRIDGE_SMTP__MAX_MESSAGE_SIZE: '200KB' } });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('a 300 KB message without SIZE= is refused at the end of DATA with 552 5.3.4', async () => {
    const before = await countsOf(env);
    const eml = await composeEml({
      from: 'alice@example.com',
      to: `+15557000101@${DOMAIN}`,
      attachments: [
        {
          filename: 'big.pdf',
          content: await makePdf(1, { padBytes: 300 * 1024 }),
          contentType: 'application/pdf',
        },
      ],
    });
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
      expect(await smtp.command(`RCPT TO:<+15557000101@${DOMAIN}>`)).toMatch(/^250 /);
      expect(await smtp.command('DATA')).toMatch(/^354 /);
      expect(await smtp.data(eml)).toMatch(/^552 5\.3\.4 /);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });
});

describe('SMTP replies to clients outside smtp.allowed_clients', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({ env: { FAXBRIDGE_SMTP__ALLOWED_CLIENTS: '10.0.0.0/8' } });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('are refused at connect with 554 5.7.1 instead of a greeting', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    smtp.close();
    expect(smtp.greeting).toMatch(/^554 5\.7\.1 .*127\.0\.0\.1/);
    await expectNothingQueued(env, before);
  });
});

describe('SMTP replies to senders (production mode: only `senders` may fax)', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      production: true,
      yaml: 'senders:\n  - match: alice@example.com\n    from_number: "+15550001111"\n',
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('an allowed sender is accepted and faxes from its number', async () => {
    const result = await pdfMail(env.smtpPort, `+15557000201@${DOMAIN}`, [
      { filename: 'a.pdf', content: await makePdf(1) },
    ]);
    expect(result.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued ${JOB_ID} \\+15557000201$`));
    const fax = await waitFor(
      () => env.simulator.faxes().find((f) => f.to === '+15557000201'),
      FAX_SENT_WITHIN,
    );
    expect(fax.from).toBe('+15550001111');
  });

  it('an envelope sender not allowed to fax is refused at MAIL with 550 5.7.1', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      const reply = await smtp.command('MAIL FROM:<mallory@example.net>');
      expect(reply).toMatch(/^550 5\.7\.1 .*mallory@example\.net/);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it('the null sender is refused at RCPT with 550 5.7.1', async () => {
    const before = await countsOf(env);
    const smtp = await rawSmtp(env.smtpPort);
    try {
      await smtp.command('EHLO client.example.com');
      await smtp.command('MAIL FROM:<>');
      expect(await smtp.command(`RCPT TO:<+15557000202@${DOMAIN}>`)).toMatch(/^550 5\.7\.1 /);
    } finally {
      smtp.close();
    }
    await expectNothingQueued(env, before);
  });

  it('a header From that differs and is not allowed is refused at the end of DATA with 550 5.7.1', async () => {
    const before = await countsOf(env);
    const result = await pdfMail(
      env.smtpPort,
      `+15557000203@${DOMAIN}`,
      [{ filename: 'a.pdf', content: await makePdf(1) }],
      {
        from: 'Mallory <mallory@example.net>',
        envelope: { from: 'alice@example.com', to: [`+15557000203@${DOMAIN}`] },
      },
    );
    expect(result.response).toMatch(/^550 5\.7\.1 .*mallory@example\.net/);
    await expectNothingQueued(env, before);
  });
});

describe('SMTP replies when storage or the database is unavailable: 451 4.3.0', () => {
  it('the documents folder is not a folder any more', async () => {
    const env = await startTestDaemon();
    try {
      const documents = path.join(env.dataDir, 'documents');
      rmSync(documents, { recursive: true, force: true });
      writeFileSync(documents, 'a file where the documents folder should be');
      const before = await countsOf(env);
      const result = await pdfMail(env.smtpPort, `+15557000301@${DOMAIN}`, [
        { filename: 'a.pdf', content: await makePdf(1) },
      ]);
      expect(result.response).toMatch(/^451 4\.3\.0 /);
      await expectNothingQueued(env, before);
    } finally {
      await env.stop();
    }
  });

  it('the database connection is gone', async () => {
    const env = await startTestDaemon();
    try {
      const before = await countsOf(env);
      await env.daemon.store.close();
      const result = await pdfMail(env.smtpPort, `+15557000302@${DOMAIN}`, [
        { filename: 'a.pdf', content: await makePdf(1) },
      ]);
      expect(result.response).toMatch(/^451 4\.3\.0 /);
      expect(env.simulator.faxes()).toHaveLength(before.faxes);
    } finally {
      await env.stop();
    }
  });

  describe('the database is locked by another process', () => {
    const pool = makeDaemonProcessPool();
    let simulator: Simulator;
    let dataDir: string;
    beforeAll(async () => {
      simulator = await startSimulator({ timing: { stepMs: 20 } });
      dataDir = mkdtempSync(path.join(tmpdir(), 'fb-locked-'));
    });
    afterAll(async () => {
      await pool.killAll();
      await simulator?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('answers 451 4.3.0 once SQLite gives up waiting for the lock', async () => {
      const smtpPort = await freePort();
      const yaml = productionYaml({
        dataDir,
        smtpPort,
        httpPort: await freePort(),
        telnyxApiUrl: simulator.url,
        telnyxPublicKey: simulator.publicKey,
      });
      await pool.start({ dir: dataDir, yaml });
      const eml = await composeEml({
        from: 'alice@example.com',
        to: '+15557000303@fax.example.com',
        attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
      });
      // Every store call of the daemon (its workers' polls too) now waits out SQLite's 5 s busy_timeout, and
      // better-sqlite3 waits synchronously: the answer takes a while.
      const smtp = await rawSmtp(smtpPort, 100_000);
      // Another writer (a backup script, an operator's sqlite3 shell) holds the write lock from DATA on.
      const holder = new Database(path.join(dataDir, 'faxbridge.db'));
      try {
        await smtp.command('EHLO client.example.com');
        expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
        expect(await smtp.command('RCPT TO:<+15557000303@fax.example.com>')).toMatch(/^250 /);
        expect(await smtp.command('DATA')).toMatch(/^354 /);
        holder.exec('BEGIN EXCLUSIVE');
        expect(await smtp.data(eml)).toMatch(/^451 4\.3\.0 /);
        const jobs = holder.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
        expect(jobs.n).toBe(0);
      } finally {
        smtp.close();
        if (holder.inTransaction) holder.exec('ROLLBACK');
        holder.close();
      }
      expect(simulator.faxes()).toHaveLength(0);
    }, 150_000);
  });
});
