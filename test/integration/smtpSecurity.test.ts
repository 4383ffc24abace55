import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';

import nodemailer, { type SendMailOptions } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashPassword } from '../../src/lib/passwordHash.js';
import { MINUTE, SECOND } from '../../src/lib/units.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { openSmtpDialogue } from '../helpers/smtpDialogue.js';
import { startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * SMTP TLS and AUTH: STARTTLS and implicit TLS with the configured certificate (reloaded on SIGHUP),
 * AUTH only over TLS, scrypt-hashed users, submission mode (AUTH required, the user sends only as itself or its
 * send_as), require_tls, and an authenticated session in relay mode skipping the DNS checks.
 */

const FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const FAST = { N: 1024, r: 8, p: 1 };
const TO = '+15551234567@fax.localhost';

interface Outcome {
  ok: boolean;
  response: string;
}

/** Sends over TLS (STARTTLS, or implicit with `secure`), trusting the test certificate `ca`. */
async function send(
  port: number,
  message: SendMailOptions,
  options: {
    auth?: { user: string; pass: string };
    authMethod?: 'PLAIN' | 'LOGIN';
    secure?: boolean;
    ca?: Buffer;
    plain?: boolean;
  } = {},
): Promise<Outcome> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: options.secure ?? false,
    requireTLS: !options.secure && !options.plain,
    ignoreTLS: options.plain ?? false,
    tls: { ca: options.ca ?? readFileSync(`${FIXTURES}first.cert.pem`), servername: 'localhost' },
    auth: options.auth,
    authMethod: options.authMethod,
    logger: false,
  });
  try {
    const info = await transport.sendMail(message);
    return { ok: true, response: info.response };
  } catch (thrown) {
    const error = thrown as Error & { response?: string };
    return { ok: false, response: error.response ?? error.message };
  } finally {
    transport.close();
  }
}

/** SHA-256 of the certificate a TLS listener presents. */
function presentedCert(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' },
      () => {
        const raw = socket.getPeerCertificate().raw;
        socket.destroy();
        resolve(createHash('sha256').update(raw).digest('hex'));
      },
    );
    socket.once('error', reject);
  });
}
const fingerprint = (file: string) => {
  const pem = readFileSync(file, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex');
};

describe('SMTP TLS and AUTH, submission mode', () => {
  let env: TestDaemon;
  const sink = new PassThrough();
  let log = '';
  sink.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const logText = () => log;
  let tlsDir: string;
  let pdf: Buffer;

  beforeAll(async () => {
    pdf = await makePdf(1);
    // The certificate files are copies, so the SIGHUP test can replace them.
    tlsDir = mkdtempSync(path.join(tmpdir(), 'fb-tls-'));
    copyFileSync(`${FIXTURES}first.cert.pem`, path.join(tlsDir, 'cert.pem'));
    copyFileSync(`${FIXTURES}first.key.pem`, path.join(tlsDir, 'key.pem'));
    const alice = await hashPassword('alice-secret', FAST);
    const scanner = await hashPassword('scanner-secret', FAST);
    env = await startTestDaemon({
      smtpYaml: [
        `tls: { cert: ${path.join(tlsDir, 'cert.pem')}, key: ${path.join(tlsDir, 'key.pem')} }`,
        'tls_listen: 127.0.0.1:0',
        'require_tls: true',
        'mode: submission',
        'auth:',
        `  - { user: alice@example.com, password_hash: "${alice}" }`,
        `  - { user: scanner, password_hash: "${scanner}", send_as: [frontdesk@example.com] }`,
      ].join('\n'),
      logDestination: sink,
    });
  });
  afterAll(async () => {
    await env?.stop();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  const fax = (from: string, extra: Partial<SendMailOptions> = {}): SendMailOptions => ({
    from,
    to: TO,
    subject: 'Fax',
    text: 'see attachment',
    attachments: [{ filename: 'a.pdf', content: pdf, contentType: 'application/pdf' }],
    ...extra,
  });
  const alice = { user: 'alice@example.com', pass: 'alice-secret' };

  it('refuses MAIL before STARTTLS (require_tls): 530 5.7.0', async () => {
    const smtp = await openSmtpDialogue(env.smtpPort);
    try {
      expect(await smtp.reply()).toMatch(/^220 /);
      expect(await smtp.command('EHLO client.test')).toMatch(/STARTTLS/);
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toBe(
        '530 5.7.0 Must issue a STARTTLS command first: this gateway requires TLS',
      );
    } finally {
      smtp.close();
    }
  });

  it('refuses AUTH over plaintext before any password is checked: 538', async () => {
    const smtp = await openSmtpDialogue(env.smtpPort);
    try {
      await smtp.reply();
      await smtp.command('EHLO client.test');
      const token = Buffer.from('\0alice@example.com\0alice-secret').toString('base64');
      expect(await smtp.command(`AUTH PLAIN ${token}`)).toMatch(/^538 5\.7\.0 .*STARTTLS/);
    } finally {
      smtp.close();
    }
  });

  it('accepts AUTH PLAIN and LOGIN after STARTTLS and queues the fax', async () => {
    const result = await send(env.smtpPort, fax('alice@example.com'), { auth: alice });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
    const login = await send(env.smtpPort, fax('alice@example.com'), { auth: alice, authMethod: 'LOGIN' });
    expect(login.response).toMatch(/^250 2\.0\.0 Queued /);
    const methods = logText()
      .split('\n')
      .filter((line) => line.includes('smtp auth succeeded'))
      .map((line) => (JSON.parse(line) as { method: string }).method);
    expect(methods).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN']));
  });

  it('accepts the same over the implicit-TLS port', async () => {
    const port = env.daemon.smtp.tlsAddress()!.port;
    const result = await send(port, fax('alice@example.com'), { auth: alice, secure: true });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
  });

  it('submission mode: MAIL without AUTH gets 530 5.7.0', async () => {
    const result = await send(env.smtpPort, fax('alice@example.com'));
    expect(result.response).toBe('530 5.7.0 Authentication required: log in (SMTP AUTH) to send faxes');
  });

  it('a wrong password gets 535 5.7.8, an unknown user the same', async () => {
    const wrong = await send(env.smtpPort, fax('alice@example.com'), { auth: { ...alice, pass: 'guess' } });
    expect(wrong.response).toBe('535 5.7.8 Authentication credentials invalid');
    const unknown = await send(env.smtpPort, fax('alice@example.com'), {
      auth: { user: 'mallory@example.com', pass: 'x' },
    });
    expect(unknown.response).toBe('535 5.7.8 Authentication credentials invalid');
  });

  it('the user may not send as someone else: 550 5.7.1 at MAIL, and at end of DATA for the header From', async () => {
    const envelope = await send(env.smtpPort, fax('bob@example.com'), { auth: alice });
    expect(envelope.response).toBe('550 5.7.1 alice@example.com may not send as bob@example.com');
    const jobs = (await env.daemon.store.listJobs({ limit: 1000 })).length;
    const header = await send(
      env.smtpPort,
      fax('bob@example.com', { envelope: { from: 'alice@example.com', to: [TO] } }),
      { auth: alice },
    );
    expect(header.response).toBe('550 5.7.1 alice@example.com may not send as bob@example.com');
    expect((await env.daemon.store.listJobs({ limit: 1000 })).length).toBe(jobs);
  });

  it('a user with send_as sends as those addresses only', async () => {
    const auth = { user: 'scanner', pass: 'scanner-secret' };
    expect((await send(env.smtpPort, fax('frontdesk@example.com'), { auth })).response).toMatch(/^250 /);
    expect((await send(env.smtpPort, fax('scanner@example.com'), { auth })).response).toBe(
      '550 5.7.1 scanner may not send as scanner@example.com',
    );
  });

  it('reloads the certificate on SIGHUP; a broken one is refused and the old one kept', async () => {
    const port = env.daemon.smtp.tlsAddress()!.port;
    expect(await presentedCert(port)).toBe(fingerprint(`${FIXTURES}first.cert.pem`));
    copyFileSync(`${FIXTURES}second.cert.pem`, path.join(tlsDir, 'cert.pem'));
    copyFileSync(`${FIXTURES}second.key.pem`, path.join(tlsDir, 'key.pem'));
    process.kill(process.pid, 'SIGHUP');
    const second = fingerprint(`${FIXTURES}second.cert.pem`);
    await waitFor(async () => (await presentedCert(port)) === second, 5000, 'the new certificate');
    // STARTTLS uses the new one too.
    const ca = readFileSync(`${FIXTURES}second.cert.pem`);
    expect((await send(env.smtpPort, fax('alice@example.com'), { auth: alice, ca })).response).toMatch(
      /^250 /,
    );

    writeFileSync(path.join(tlsDir, 'cert.pem'), 'not a certificate');
    expect(env.daemon.smtp.reloadTls()).toBe(false);
    expect(await presentedCert(port)).toBe(fingerprint(`${FIXTURES}second.cert.pem`));
  });
});

describe('SMTP AUTH in relay mode', () => {
  let env: TestDaemon;
  let asked = 0;

  beforeAll(async () => {
    const hash = await hashPassword('alice-secret', FAST);
    env = await startTestDaemon({
      smtpYaml: [
        `tls: { cert: ${FIXTURES}first.cert.pem, key: ${FIXTURES}first.key.pem }`,
        'trusted_relays: []',
        `auth: [{ user: alice@example.com, password_hash: "${hash}" }]`,
      ].join('\n'),
      // Any lookup would be a DNS check the authenticated session must not need.
      dnsResolver: async () => {
        asked += 1;
        throw Object.assign(new Error('no DNS in this test'), { code: 'ETIMEOUT' });
      },
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('an authenticated sender skips SPF/DKIM/DMARC; an unauthenticated one is checked', async () => {
    const pdf = await makePdf(1);
    const message = {
      from: 'alice@example.com',
      to: TO,
      subject: 'x',
      attachments: [{ filename: 'a.pdf', content: pdf }],
    };
    const authed = await send(env.smtpPort, message, {
      auth: { user: 'alice@example.com', pass: 'alice-secret' },
    });
    expect(authed.response).toMatch(/^250 2\.0\.0 Queued /);
    expect(asked).toBe(0);
    const anonymous = await send(env.smtpPort, message);
    expect(anonymous.response).toMatch(/^451 4\.4\.3 /);
    expect(asked).toBeGreaterThan(0);
  });
});

describe('SMTP AUTH guessing: closed per connection, locked per account and per address', () => {
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  const sink = new PassThrough();
  let log = '';
  sink.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  let env: TestDaemon;
  let tlsPort: number;
  const ca = readFileSync(`${FIXTURES}first.cert.pem`);

  beforeAll(async () => {
    const [alice, scanner] = await Promise.all([
      hashPassword('alice-secret', FAST),
      hashPassword('scanner-secret', FAST),
    ]);
    env = await startTestDaemon({
      smtpYaml: [
        `tls: { cert: ${FIXTURES}first.cert.pem, key: ${FIXTURES}first.key.pem }`,
        'tls_listen: 127.0.0.1:0',
        'auth:',
        `  - { user: alice@example.com, password_hash: "${alice}" }`,
        `  - { user: scanner, password_hash: "${scanner}", send_as: [frontdesk@example.com] }`,
      ].join('\n'),
      clock,
      logDestination: sink,
    });
    tlsPort = env.daemon.smtp.tlsAddress()!.port;
  });
  afterAll(async () => {
    await env?.stop();
  });

  const plain = (user: string, pass: string) =>
    `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`;

  /** One TLS session from `localAddress` trying each password in turn; the replies, then whether it was closed. */
  async function tryPasswords(localAddress: string, user: string, passwords: string[]) {
    const smtp = await openSmtpDialogue(tlsPort, '127.0.0.1', { localAddress, tls: { ca } });
    const closed = new Promise<void>((resolve) => smtp.socket.once('close', () => resolve()));
    const replies: string[] = [];
    try {
      await smtp.reply();
      await smtp.command('EHLO client.test');
      for (const pass of passwords) replies.push(await smtp.command(plain(user, pass)));
      if (replies.at(-1)?.startsWith('421 ')) await closed;
      return replies;
    } finally {
      smtp.close();
    }
  }

  it('the third wrong password on one connection gets 421 4.7.0 and the connection is closed', async () => {
    expect(await tryPasswords('127.0.0.2', 'alice@example.com', ['a', 'b', 'c'])).toEqual([
      '535 5.7.8 Authentication credentials invalid',
      '535 5.7.8 Authentication credentials invalid',
      '421 4.7.0 Authentication credentials invalid, and too many failed logins on this connection; closing it',
    ]);
  });

  it('10 wrong passwords for one account in 15 minutes lock it, the right password included, for 15 minutes', async () => {
    // 3 above, 7 more from three other addresses at once (as a guesser with many connections would).
    await Promise.all([
      tryPasswords('127.0.0.3', 'alice@example.com', ['d', 'e', 'f']),
      tryPasswords('127.0.0.4', 'alice@example.com', ['g', 'h', 'i']),
      tryPasswords('127.0.0.5', 'alice@example.com', ['j']),
    ]);
    expect(await tryPasswords('127.0.0.6', 'alice@example.com', ['alice-secret'])).toEqual([
      '454 4.7.0 Too many failed logins for this account; logins are refused for 15 more minutes',
    ]);
    // Another account from the same address is not affected.
    expect(await tryPasswords('127.0.0.6', 'scanner', ['scanner-secret'])).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
    offset += 15 * MINUTE + SECOND;
    expect(await tryPasswords('127.0.0.6', 'alice@example.com', ['alice-secret'])).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
  });

  it('10 wrong logins from one address lock that address, whatever the names tried', async () => {
    const names = (from: number) => Array.from({ length: 3 }, (_, i) => `guess${from + i}@example.com`);
    await Promise.all([0, 3, 6].map((from) => tryPasswords('127.0.0.7', names(from)[0]!, ['x', 'y', 'z'])));
    expect(await tryPasswords('127.0.0.7', 'nobody@example.com', ['w'])).toEqual([
      '535 5.7.8 Authentication credentials invalid',
    ]);
    expect(await tryPasswords('127.0.0.7', 'alice@example.com', ['alice-secret'])).toEqual([
      '454 4.7.0 Too many failed logins from your address; logins are refused for 15 more minutes',
    ]);
    expect(await tryPasswords('127.0.0.8', 'alice@example.com', ['alice-secret'])).toEqual([
      '235 2.7.0 Authentication successful',
    ]);
  });

  it('counts the failures in faxbridge_smtp_auth_failures_total and logs the lockouts, never a password', async () => {
    const metrics = await (await fetch(`${env.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^faxbridge_smtp_auth_failures_total\{result="invalid"\} 20$/m);
    expect(metrics).toMatch(/^faxbridge_smtp_auth_failures_total\{result="locked"\} 2$/m);
    expect(log).toContain('smtp auth locked after too many failed logins');
    expect(log).not.toContain('alice-secret');
    expect(log).not.toContain('scanner-secret');
  });
});
