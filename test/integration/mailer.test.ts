import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FaxError } from '../../src/errors.js';
import { makeLogger } from '../../src/log.js';
import {
  emlFileName,
  type Mailer,
  MailPermanentError,
  MailTransientError,
  makeMailer,
  type OutgoingMail,
} from '../../src/mail/mailer.js';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
const PASSWORD = 's3cret-relay-pa55';

interface Received {
  mailFrom: string;
  rcptTo: string[];
  user: string | undefined;
  raw: Buffer;
}

/** A real smtp-server on port 0; `hooks` override the accept-everything defaults to answer with errors. */
async function startRelay(hooks: Partial<SMTPServerOptions> = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'relayuser' && auth.password === PASSWORD) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user,
          raw: Buffer.concat(chunks),
        });
        cb(null, 'OK queued');
      });
    },
    ...hooks,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** Collects the JSON log lines so the test can prove the password never appears. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: makeLogger({ level: 'debug' }, sink), lines };
}

let dir: string;
let pdfPath: string;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-mailer-'));
  pdfPath = join(dir, 'stored-document');
  await writeFile(pdfPath, PDF);
});

afterEach(async () => {
  // Mailers close before relays: a pooled connection would otherwise hold server.close() open.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dir, { recursive: true, force: true });
});

function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    from: 'Fax Gateway <fax@fax.example.com>',
    to: ['"Alice Smith" <alice@example.com>'],
    envelopeFrom: 'fax@fax.example.com',
    subject: 'Fax to +15551234567 failed: the line was busy',
    text: 'Your fax to +15551234567 could not be delivered.\n',
    messageId: '<receipt-failed-job_12345678@fax.example.com>',
    headers: { 'Auto-Submitted': 'auto-replied' },
    inReplyTo: '<orig-1@mail.example.com>',
    references: ['<thread-0@x>', '<orig-1@mail.example.com>'],
    attachments: [{ filename: 'contract.pdf', path: pdfPath, contentType: 'application/pdf' }],
    ...overrides,
  };
}

async function relayAndMailer(hooks: Partial<SMTPServerOptions> = {}, userinfo = '') {
  const relay = await startRelay(hooks);
  cleanups.push(relay.close);
  const { log, lines } = capturingLogger();
  const mailer = makeMailer({ smtpUrl: `smtp://${userinfo}127.0.0.1:${relay.port}`, outboxDir: dir, log });
  cleanups.push(() => mailer.close());
  return { relay, mailer, lines };
}

async function rejection(mailer: Mailer, message = mail()): Promise<unknown> {
  return mailer.send(message).then(
    () => expect.fail('send should have failed'),
    (err: unknown) => err,
  );
}

describe('SMTP relay', () => {
  it('delivers with the envelope sender, threading headers and the PDF attached', async () => {
    const { relay, mailer, lines } = await relayAndMailer({}, `relayuser:${encodeURIComponent(PASSWORD)}@`);
    await mailer.verify();
    const result = await mailer.send(mail());
    expect(result.messageId).toBe('<receipt-failed-job_12345678@fax.example.com>');
    expect(result.response).toMatch(/^250 /);
    expect(result.accepted).toEqual(['alice@example.com']);

    expect(relay.received).toHaveLength(1);
    const [got] = relay.received;
    expect(got!.mailFrom).toBe('fax@fax.example.com');
    expect(got!.rcptTo).toEqual(['alice@example.com']);
    expect(got!.user).toBe('relayuser');
    const parsed = await simpleParser(got!.raw);
    expect(parsed.messageId).toBe('<receipt-failed-job_12345678@fax.example.com>');
    expect(parsed.inReplyTo).toBe('<orig-1@mail.example.com>');
    expect(parsed.references).toEqual(['<thread-0@x>', '<orig-1@mail.example.com>']);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.subject).toBe('Fax to +15551234567 failed: the line was busy');
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.contentType).toBe('application/pdf');
    expect(parsed.attachments[0]!.filename).toBe('contract.pdf');
    expect(Buffer.compare(parsed.attachments[0]!.content, PDF)).toBe(0);

    const logs = lines.join('');
    expect(logs).toContain('127.0.0.1');
    expect(logs).not.toContain(PASSWORD);
  });

  it.each([
    ['421 at connect', { onConnect: (_s, cb) => cb(smtpError('Too busy, try later', 421)) }, 421],
    ['451 at MAIL FROM', { onMailFrom: (_a, _s, cb) => cb(smtpError('Greylisted', 451)) }, 451],
    ['452 at RCPT TO', { onRcptTo: (_a, _s, cb) => cb(smtpError('Mailbox full', 452)) }, 452],
  ] as Array<[string, Partial<SMTPServerOptions>, number]>)('%s is transient', async (_name, hooks, code) => {
    const { mailer } = await relayAndMailer(hooks);
    const err = await rejection(mailer);
    expect(err).toBeInstanceOf(MailTransientError);
    expect((err as MailTransientError).responseCode).toBe(code);
  });

  it('451 after DATA is transient', async () => {
    const { mailer } = await relayAndMailer({
      onData(stream, _session, cb) {
        stream.resume();
        stream.on('end', () => cb(smtpError('Local error, try later', 451)));
      },
    });
    expect(await rejection(mailer)).toBeInstanceOf(MailTransientError);
  });

  it.each([
    ['550 at RCPT TO', { onRcptTo: (_a, _s, cb) => cb(smtpError('No such user', 550)) }, 550],
    ['553 at MAIL FROM', { onMailFrom: (_a, _s, cb) => cb(smtpError('Sender refused', 553)) }, 553],
  ] as Array<[string, Partial<SMTPServerOptions>, number]>)('%s is permanent', async (_name, hooks, code) => {
    const { mailer } = await relayAndMailer(hooks);
    const err = await rejection(mailer);
    expect(err).toBeInstanceOf(MailPermanentError);
    expect((err as MailPermanentError).responseCode).toBe(code);
  });

  it('554 after DATA is permanent', async () => {
    const { mailer } = await relayAndMailer({
      onData(stream, _session, cb) {
        stream.resume();
        stream.on('end', () => cb(smtpError('Message refused', 554)));
      },
    });
    expect(await rejection(mailer)).toBeInstanceOf(MailPermanentError);
  });

  it('a deferred recipient among accepted ones is transient and named', async () => {
    const { relay, mailer } = await relayAndMailer({
      onRcptTo: (address, _s, cb) =>
        cb(address.address === 'bob@example.com' ? smtpError('Try later', 450) : undefined),
    });
    const err = await rejection(mailer, mail({ to: ['alice@example.com', 'bob@example.com'] }));
    expect(err).toBeInstanceOf(MailTransientError);
    expect((err as MailTransientError).deferredRecipients).toEqual(['bob@example.com']);
    expect(relay.received[0]!.rcptTo).toEqual(['alice@example.com']);
  });

  it('a refused password is transient (the operator fixes it, the mail still goes)', async () => {
    const { mailer } = await relayAndMailer({}, 'relayuser:wrong@');
    const err = await rejection(mailer);
    expect(err).toBeInstanceOf(MailTransientError);
    expect((err as MailTransientError).responseCode).toBe(535);
  });

  it('a relay that is down is transient, for send and verify', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const mailer = makeMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      outboxDir: dir,
      log: capturingLogger().log,
    });
    cleanups.push(() => mailer.close());
    expect(await rejection(mailer)).toBeInstanceOf(MailTransientError);
    await expect(mailer.verify()).rejects.toBeInstanceOf(MailTransientError);
  });

  it('a stored document that vanished is permanent', async () => {
    const { relay, mailer } = await relayAndMailer();
    const missing = mail({
      attachments: [{ filename: 'a.pdf', path: join(dir, 'gone'), contentType: 'application/pdf' }],
    });
    expect(await rejection(mailer, missing)).toBeInstanceOf(MailPermanentError);
    expect(relay.received).toHaveLength(0);
  });

  it.each([
    ['http://relay.example.com', /scheme/],
    ['smtp://relay.example.com?verify_peer=0', /unknown parameter verify_peer/],
    ['not a url', /smtp:\/\//],
  ])('refuses smtp_url %s', (smtpUrl, pattern) => {
    let thrown: unknown;
    try {
      makeMailer({ smtpUrl, outboxDir: dir, log: capturingLogger().log });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FaxError);
    expect((thrown as FaxError).message).toMatch(pattern);
  });
});

describe('.eml outbox', () => {
  it('writes one file per Message-ID, and a resend replaces it', async () => {
    const outboxDir = join(dir, 'outbox');
    const mailer = makeMailer({ smtpUrl: null, outboxDir, log: capturingLogger().log });
    cleanups.push(() => mailer.close());
    await mailer.verify();

    await mailer.send(mail({ text: 'first version\n' }));
    expect(await readdir(outboxDir)).toEqual(['receipt-failed-job_12345678@fax.example.com.eml']);

    await mailer.send(mail({ text: 'second version\n' }));
    const files = await readdir(outboxDir);
    expect(files).toEqual(['receipt-failed-job_12345678@fax.example.com.eml']);

    const parsed = await simpleParser(await readFile(join(outboxDir, files[0]!)));
    expect(parsed.text).toContain('second version');
    expect(parsed.messageId).toBe('<receipt-failed-job_12345678@fax.example.com>');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-replied');
    expect(parsed.inReplyTo).toBe('<orig-1@mail.example.com>');
    expect(parsed.attachments[0]!.contentType).toBe('application/pdf');

    await mailer.send(mail({ messageId: '<receipt-delivered-job_12345678@fax.example.com>' }));
    expect((await readdir(outboxDir)).sort()).toEqual([
      'receipt-delivered-job_12345678@fax.example.com.eml',
      'receipt-failed-job_12345678@fax.example.com.eml',
    ]);
  });

  it('leaves no temporary file behind when the document is gone', async () => {
    const outboxDir = join(dir, 'outbox');
    const mailer = makeMailer({ outboxDir, log: capturingLogger().log });
    cleanups.push(() => mailer.close());
    const missing = mail({
      attachments: [{ filename: 'a.pdf', path: join(dir, 'gone'), contentType: 'application/pdf' }],
    });
    expect(await rejection(mailer, missing)).toBeInstanceOf(MailPermanentError);
    expect(await readdir(outboxDir)).toEqual([]);
  });

  it('names files safely from any Message-ID', () => {
    expect(emlFileName('<a/../../b c@x>')).toBe('a_.._.._b_c@x.eml');
    expect(emlFileName('<..hidden@x>')).toBe('_hidden@x.eml');
    expect(() => emlFileName('<>')).toThrow(MailPermanentError);
  });
});
