import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { startMimeReaders } from '../../src/documents/mimeReaders/mimeReaders.js';
import { sharedDocumentSandbox } from '../../src/documents/sandbox/documentSandbox.js';
import { FaxError } from '../../src/errors.js';
import { makeSilentLogger } from '../../src/log.js';
import { isRunning, mimeReaderPids } from '../helpers/mimeReaderProcesses.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sha256 } from '../helpers/simulatorClient.js';
import { openSmtpDialogue, type SmtpDialogue } from '../helpers/smtpDialogue.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Incoming mail is read by MIME reader processes (src/documents/mimeReaders), so that a message that makes the
 * parser hang, or a reader that dies, costs that message (or those being read with it) a clear SMTP answer and
 * never the daemon. The readers here are real child processes of the test, stopped and killed with real signals.
 */

/** This process's MIME readers: the in-process test daemon starts them. */
const readerPids = (): number[] => mimeReaderPids(process.pid);

/** A message with one PDF, split where the test pauses: the first part holds the headers and `share` of the PDF. */
function splitMessage(pdf: Buffer, to: string, share = 0.5): [string, string] {
  const base64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  const half = Math.floor(base64.length * share);
  const head = [
    'From: alice@example.com',
    `To: ${to}`,
    'Subject: Fax',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: application/pdf; name="doc.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  return [head + base64.slice(0, half), `${base64.slice(half)}\r\n--b1--\r\n.\r\n`];
}

/** Opens a transaction and sends the first half (or `share`) of its message; the reader has then begun reading it. */
async function startMessage(
  port: number,
  to: string,
  pdf: Buffer,
  share?: number,
): Promise<[SmtpDialogue, string]> {
  const dialogue = await openSmtpDialogue(port);
  await dialogue.reply();
  await dialogue.command('EHLO test.example');
  expect(await dialogue.command('MAIL FROM:<alice@example.com>')).toMatch(/^250/);
  expect(await dialogue.command(`RCPT TO:<${to}>`)).toMatch(/^250/);
  expect(await dialogue.command('DATA')).toMatch(/^354/);
  const [first, rest] = splitMessage(pdf, to, share);
  dialogue.write(first);
  return [dialogue, rest];
}

/**
 * Two transactions to `numbers` begun on a daemon with one reader, which reads both (their dialogues go into
 * `opened`, closed after the test): each message with the rest still to send, and the reader.
 */
async function twoMessagesInOneReader(
  port: number,
  opened: SmtpDialogue[],
  numbers: [string, string],
  pdfs: [Buffer, Buffer],
): Promise<[MessageUnderWay, MessageUnderWay, number]> {
  const messages: MessageUnderWay[] = [];
  for (const [index, number] of numbers.entries()) {
    const [dialogue, rest] = await startMessage(port, `${number}@fax.localhost`, pdfs[index]!);
    opened.push(dialogue);
    messages.push({
      dialogue,
      finish: () => {
        dialogue.write(rest);
        return dialogue.reply(15_000);
      },
    });
  }
  const [reader] = await waitFor(() => (readerPids().length ? readerPids() : null), 10_000, 'a reader');
  return [messages[0]!, messages[1]!, reader!];
}

/** A transaction whose message is half sent: `finish` sends the rest and resolves with the server's answer. */
interface MessageUnderWay {
  dialogue: SmtpDialogue;
  finish(): Promise<string>;
}

/** A plain fax by email: one PDF to one number. */
function faxTo(port: number, number: string, pdf: Buffer) {
  return sendMail(port, {
    from: 'alice@example.com',
    to: `${number}@fax.localhost`,
    subject: 'Fax',
    attachments: [{ filename: 'doc.pdf', content: pdf, contentType: 'application/pdf' }],
  });
}

function workFiles(env: TestDaemon): string[] {
  try {
    return readdirSync(path.join(env.dataDir, 'tmp'));
  } catch {
    return [];
  }
}

describe('MIME readers', () => {
  let env: TestDaemon | undefined;
  const dialogues: SmtpDialogue[] = [];
  afterEach(async () => {
    for (const dialogue of dialogues.splice(0)) dialogue.close();
    await env?.stop();
    env = undefined;
  });

  it('a reader that stops answering is killed: its message gets 554 in words, the daemon answers meanwhile, the next message is faxed', async () => {
    env = await startTestDaemon({ mimeReaders: { stallMs: 1000 } });
    const pdf = await makePdf(2);
    const [dialogue, rest] = await startMessage(env.smtpPort, '+15551230001@fax.localhost', pdf);
    dialogues.push(dialogue);
    const [frozen] = await waitFor(() => (readerPids().length ? readerPids() : null), 10_000, 'a reader');
    process.kill(frozen!, 'SIGSTOP');
    dialogue.write(rest);
    // The daemon's own event loop is free while its reader is frozen.
    const health = await fetch(`${env.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const reply = await dialogue.reply(15_000);
    expect(reply).toMatch(/^554 5\.6\.0 The message could not be read: reading it took more than 1 s/);
    await waitFor(() => !isRunning(frozen!), 5_000, 'the frozen reader to be killed');
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
    expect(workFiles(env).filter((name) => !name.startsWith('spool'))).toEqual([]);

    const next = await faxTo(env.smtpPort, '+15551230002', pdf);
    expect(next.response).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230002$/);
    expect(readerPids()).not.toContain(frozen);
  });

  it('a reader killed from outside while it reads two messages: each is read again alone and faxed, and the lone reader stops when idle', async () => {
    env = await startTestDaemon({ mimeReaders: { readers: 1, idleMs: 500 } });
    const pdf = await makePdf(1);
    const [first, second, reader] = await twoMessagesInOneReader(
      env.smtpPort,
      dialogues,
      ['+15551230011', '+15551230012'],
      [pdf, pdf],
    );
    expect(readerPids()).toHaveLength(1);
    // As the kernel's OOM killer would: the daemon cannot tell which message, if any, was at fault.
    process.kill(reader, 'SIGKILL');
    await waitFor(() => !isRunning(reader), 5_000, 'the killed reader to end');
    const [firstReply, secondReply] = await Promise.all([first.finish(), second.finish()]);
    expect(firstReply).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230011$/);
    expect(secondReply).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230012$/);
    const jobs = await env.daemon.store.listJobs({ limit: 10 });
    expect(jobs.map((job) => job.to_number).sort()).toEqual(['+15551230011', '+15551230012']);
    const stored = await Promise.all(
      jobs.map(async (job) => {
        const message = await env!.daemon.store.getMessage(job.message_row_id);
        return (await env!.daemon.store.getDocument(message!.document_id))?.sha256;
      }),
    );
    expect(stored).toEqual([sha256(pdf), sha256(pdf)]);
    // The faxes' own work (their transmitted PDFs) uses the same folder for a while: waited for, not looked at once.
    await waitFor(
      () => workFiles(env!).filter((name) => !name.startsWith('spool')).length === 0,
      10_000,
      'no work folder left',
    );
    // The lone reader is not kept once nothing is left to read again.
    await waitFor(() => (readerPids().length === 0 ? true : null), 10_000, 'no reader left');
  });

  it('a reader that stops answering while it reads two messages: each is read again alone, and both are faxed', async () => {
    // Time enough for a lone reader to start on a loaded machine: its start counts against stallMs too.
    env = await startTestDaemon({ mimeReaders: { readers: 1, stallMs: 3000 } });
    const pdf = await makePdf(1);
    const [first, second, frozen] = await twoMessagesInOneReader(
      env.smtpPort,
      dialogues,
      ['+15551230021', '+15551230022'],
      [pdf, pdf],
    );
    process.kill(frozen, 'SIGSTOP');
    const [firstReply, secondReply] = await Promise.all([first.finish(), second.finish()]);
    expect(firstReply).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230021$/);
    expect(secondReply).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230022$/);
    await waitFor(() => !isRunning(frozen), 5_000, 'the frozen reader to be killed');
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(2);
  });

  it('a reader killed under a large message and a small one: the large one (not kept) gets 451, the small one is read again and faxed', async () => {
    env = await startTestDaemon({ mimeReaders: { readers: 1 } });
    // Its first half alone is over the 4 MB the daemon keeps of a message to read it again.
    const large = await makePdf(1, { padBytes: 7 * 1024 * 1024 });
    const pdf = await makePdf(1);
    const [big, small, reader] = await twoMessagesInOneReader(
      env.smtpPort,
      dialogues,
      ['+15551230041', '+15551230042'],
      [large, pdf],
    );
    process.kill(reader, 'SIGKILL');
    await waitFor(() => !isRunning(reader), 5_000, 'the killed reader to end');
    const [bigReply, smallReply] = await Promise.all([big.finish(), small.finish()]);
    expect(bigReply).toMatch(/^451 4\.3\.0 The message could not be read right now; please try again later/);
    expect(smallReply).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230042$/);
    const jobs = await env.daemon.store.listJobs({ limit: 10 });
    expect(jobs.map((job) => job.to_number)).toEqual(['+15551230042']);
  });

  it('a client that leaves while its message waits to be read again: its transaction ends, nothing is left of it, the other message is faxed', async () => {
    const sink = new PassThrough();
    const said: string[] = [];
    sink.on('data', (chunk: Buffer) => said.push(chunk.toString('utf8')));
    env = await startTestDaemon({ mimeReaders: { readers: 1 }, logDestination: sink });
    const pdf = await makePdf(1);
    const [leaving, staying, reader] = await twoMessagesInOneReader(
      env.smtpPort,
      dialogues,
      ['+15551230061', '+15551230062'],
      [pdf, pdf],
    );
    process.kill(reader, 'SIGKILL');
    // The daemon has heard the reader end and keeps both messages to read them again.
    await waitFor(
      () => said.join('').includes('each that was kept is handed on to be read again alone'),
      10_000,
      'the daemon to say it reads the messages again',
    );
    leaving.dialogue.socket.destroy();
    expect(await staying.finish()).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230062$/);
    await waitFor(
      () => said.join('').includes('the message stopped before its end; nothing was queued'),
      10_000,
      'the daemon to log the message it dropped',
    );
    await waitFor(() => workFiles(env!).length === 0, 10_000, 'nothing left of the message that was dropped');
    const jobs = await env.daemon.store.listJobs({ limit: 10 });
    expect(jobs.map((job) => job.to_number)).toEqual(['+15551230062']);
  });

  it('the daemon stopping while a reader holds two messages: both are answered 451 when they end, none is read again', async () => {
    // The readers alone, as the SMTP listener uses them once its grace for DATA in progress is over.
    const readers = startMimeReaders({ readers: 1 }, makeSilentLogger());
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-readers-'));
    try {
      const pdf = await makePdf(1);
      const inputs = [new PassThrough(), new PassThrough()];
      const answers = inputs.map((input, index) =>
        readers.extract(input, path.join(dir, `work-${index}`), {}, new AbortController().signal).then(
          () => 'read',
          (error: unknown) => error,
        ),
      );
      const halves = inputs.map(() => splitMessage(pdf, '+15551230071@fax.localhost'));
      inputs.forEach((input, index) => input.write(halves[index]![0]));
      await waitFor(() => (readerPids().length ? true : null), 10_000, 'a reader');
      await readers.close();
      inputs.forEach((input, index) => input.end(halves[index]![1].replace(/\.\r\n$/, '')));
      for (const answer of await Promise.all(answers)) {
        expect(answer).toBeInstanceOf(FaxError);
        expect((answer as FaxError).retryable).toBe(true);
        expect((answer as FaxError).message).toMatch(/the daemon is stopping/);
      }
      expect(readerPids()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two messages in a reader whose heap neither fits: each is read again alone and refused in words, not asked again', async () => {
    // 8 MB is less than the parser needs for any message: each message ends a reader, also when read alone.
    env = await startTestDaemon({ mimeReaders: { readers: 1, heapMb: 8 } });
    const pdf = await makePdf(1);
    const [first, firstRest] = await startMessage(env.smtpPort, '+15551230031@fax.localhost', pdf);
    const [second, secondRest] = await startMessage(env.smtpPort, '+15551230032@fax.localhost', pdf);
    dialogues.push(first, second);
    first.write(firstRest);
    second.write(secondRest);
    for (const dialogue of [first, second]) {
      expect(await dialogue.reply(30_000)).toMatch(
        /^554 5\.6\.0 The message could not be read: reading it took more memory than a reader has \(8 MB\)/,
      );
    }
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
    expect((await fetch(`${env.httpUrl}/healthz`)).status).toBe(200);
  });

  it('an idle daemon runs no reader: one starts with a message and stops once mail has stopped', async () => {
    env = await startTestDaemon({ mimeReaders: { idleMs: 500 } });
    expect(readerPids()).toEqual([]);
    const pdf = await makePdf(1);
    const [dialogue, rest] = await startMessage(env.smtpPort, '+15551230021@fax.localhost', pdf);
    dialogues.push(dialogue);
    const [reader] = await waitFor(() => (readerPids().length ? readerPids() : null), 10_000, 'a reader');
    dialogue.write(rest);
    expect(await dialogue.reply(15_000)).toMatch(/^250 2\.0\.0 Queued/);
    await waitFor(() => !isRunning(reader!), 10_000, 'the idle reader to stop');
    expect(readerPids()).toEqual([]);
  });

  it('a client that leaves in the middle of a large message (read as it arrives): the reader drops it, its work folder goes, and the same reader reads the next message', async () => {
    env = await startTestDaemon();
    // Its first half alone is over the 4 MB a reader holds whole: it is read as it arrives, into its work folder.
    const large = await makePdf(2, { padBytes: 7 * 1024 * 1024 });
    const [dialogue] = await startMessage(env.smtpPort, '+15551230031@fax.localhost', large);
    const [reader] = await waitFor(() => (readerPids().length ? readerPids() : null), 10_000, 'a reader');
    await waitFor(() => workFiles(env!).length > 0, 10_000, 'the work folder');
    dialogue.socket.destroy();
    await waitFor(() => workFiles(env!).length === 0, 10_000, 'the work folder to be removed');

    const next = await faxTo(env.smtpPort, '+15551230032', await makePdf(2));
    expect(next.response).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230032$/);
    expect(readerPids()).toEqual([reader]);
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(1);
  });

  it('a client that leaves in the middle of a small message (held whole until its end): nothing is left, and the same reader reads the next message', async () => {
    const sink = new PassThrough();
    const said: string[] = [];
    sink.on('data', (chunk: Buffer) => said.push(chunk.toString('utf8')));
    env = await startTestDaemon({ logDestination: sink });
    const pdf = await makePdf(2);
    const [dialogue] = await startMessage(env.smtpPort, '+15551230033@fax.localhost', pdf);
    const [reader] = await waitFor(() => (readerPids().length ? readerPids() : null), 10_000, 'a reader');
    dialogue.socket.destroy();
    await waitFor(
      () => said.join('').includes('the message stopped before its end; nothing was queued'),
      10_000,
      'the daemon to log the message it dropped',
    );
    await waitFor(() => workFiles(env!).length === 0, 10_000, 'nothing left of the dropped message');

    const next = await faxTo(env.smtpPort, '+15551230034', pdf);
    expect(next.response).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230034$/);
    expect(readerPids()).toEqual([reader]);
    const jobs = await env.daemon.store.listJobs({ limit: 10 });
    expect(jobs.map((job) => job.to_number)).toEqual(['+15551230034']);
  });

  it('messages held whole fill a reader up to 32 MB: the one that does not fit is read as it streams in, and every message is faxed as sent', async () => {
    env = await startTestDaemon({ mimeReaders: { readers: 1 } });
    // Each message is just under the 4 MB a reader holds whole; eight of them nearly fill its 32 MB, the ninth
    // does not fit. Each PDF differs, so each job must come with its own document.
    const pdfs = await Promise.all(
      Array.from({ length: 9 }, (_, index) => makePdf(1, { padBytes: 2_900_000 + index })),
    );
    const rests: Array<[SmtpDialogue, string]> = [];
    for (const [index, pdf] of pdfs.entries()) {
      const sent = await startMessage(env.smtpPort, `+1555123006${index}@fax.localhost`, pdf, 0.99);
      dialogues.push(sent[0]);
      rests.push(sent);
    }
    // A held message writes nothing before its end; the one that streams writes its part as it arrives.
    await waitFor(() => workFiles(env!).length > 0, 20_000, 'a message to be read as it streams in');
    for (const [dialogue, rest] of rests) dialogue.write(rest);
    for (const [dialogue] of rests) expect(await dialogue.reply(30_000)).toMatch(/^250 2\.0\.0 Queued /);

    const jobs = await env.daemon.store.listJobs({ limit: 20 });
    expect(jobs).toHaveLength(9);
    for (const [index, pdf] of pdfs.entries()) {
      const job = jobs.find((row) => row.to_number === `+1555123006${index}`);
      const message = await env.daemon.store.getMessage(job!.message_row_id);
      const document = await env.daemon.store.getDocument(message!.document_id);
      const stored = readFileSync(path.join(env.dataDir, 'documents', document!.storage_key));
      expect(sha256(stored)).toBe(sha256(pdf));
    }
  });

  it("the daemon's NODE_OPTIONS (an agent's --require, say) do not reach its readers and sandbox children", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-node-options-'));
    const loadedBy = path.join(dir, 'loaded-by.txt');
    const agent = path.join(dir, 'agent.cjs');
    writeFileSync(loadedBy, '');
    writeFileSync(
      agent,
      `require('node:fs').appendFileSync(${JSON.stringify(loadedBy)}, process.pid + '\\n');\n`,
    );
    const saved = process.env.NODE_OPTIONS;
    // Children that earlier tests left idle were started before; the ones this fax needs start now.
    sharedDocumentSandbox().closeIdle();
    process.env.NODE_OPTIONS = `${saved ?? ''} --require ${agent}`;
    try {
      // Any other node process started with this environment loads the agent.
      const control = spawnSync(process.execPath, ['-e', ''], { env: process.env });
      expect(readFileSync(loadedBy, 'utf8').trim().split('\n')).toEqual([String(control.pid)]);

      env = await startTestDaemon();
      const sent = await faxTo(env.smtpPort, '+15551230071', await makePdf(1));
      expect(sent.response).toMatch(/^250 2\.0\.0 Queued \S+ \+15551230071$/);
      expect(readerPids().length).toBeGreaterThan(0);
      expect(readFileSync(loadedBy, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a work folder that cannot be written is the fax storage's fault: 451 4.3.0, not a refusal of the message", async () => {
    env = await startTestDaemon();
    const pdf = await makePdf(1);
    const tmp = path.join(env.dataDir, 'tmp');
    rmSync(tmp, { recursive: true, force: true });
    // A file where the work folders go: every mkdir under it fails (ENOTDIR).
    writeFileSync(tmp, 'not a folder');
    const refused = await faxTo(env.smtpPort, '+15551230041', pdf);
    expect(refused.response).toMatch(
      /^451 4\.3\.0 Fax storage is unavailable right now; please try again later/,
    );
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
  });

  it('a reader that runs out of its heap while reading one message: that message gets 554 in words, the daemon carries on', async () => {
    // 8 MB is less than the parser needs for any message: the only way to make a reader's heap run out on demand.
    env = await startTestDaemon({ mimeReaders: { heapMb: 8 } });
    const pdf = await makePdf(1);
    const refused = await faxTo(env.smtpPort, '+15551230051', pdf);
    expect(refused.response).toMatch(
      /^554 5\.6\.0 The message could not be read: reading it took more memory than a reader has \(8 MB\)/,
    );
    expect((await fetch(`${env.httpUrl}/healthz`)).status).toBe(200);
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
  });
});
