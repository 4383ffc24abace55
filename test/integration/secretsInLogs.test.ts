import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hashPassword } from '../../src/lib/passwordHash.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { makeWebhookKeyPair, signWebhook } from '../helpers/signWebhook.js';
import { freePort, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Secrets never reach the log (docs/behaviour.md §9). A full run in production mode against the
 * simulator: a fax sent with SMTP AUTH (and a failed login that typed a password as the user name), Telnyx
 * called with an API key, signed webhooks (valid and forged), the delivery receipt sent through a relay that
 * wants a password (in mail.smtp_url), signed media links. The daemon's whole log is then searched for every
 * secret.
 */

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const API_KEY = 'KEYtelnyx-Secret-0123456789abcdef';
const SMTP_PASSWORD = 'smtp-Pa55word-never-logged';
const TYPO_PASSWORD = 'typed-into-user-field-9Qz';
const RELAY_PASSWORD = 'relay-Pa55-in-smtp-url';
const URL_SECRET = 'url-secret-for-links-0123456789';
/** Any Ed25519 signature in base64 (64 bytes → 86 characters and "=="). */
const ANY_SIGNATURE = /[A-Za-z0-9+/]{86}==/;

/** A relay that insists on AUTH PLAIN/LOGIN with one user, over plaintext (it is loopback). */
async function startPasswordRelay(user: string, pass: string) {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) return callback(null, { user });
      callback(Object.assign(new Error('bad credentials'), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      stream.on('end', () => {
        received.push(text);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('secrets in logs', () => {
  let simulator: Simulator;
  let relay: Awaited<ReturnType<typeof startPasswordRelay>>;
  let env: TestDaemon;
  const sink = new PassThrough();
  let log = '';
  sink.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const seed = new Uint8Array(32).fill(9);

  beforeAll(async () => {
    simulator = await startSimulator({ apiKey: API_KEY, signingSeed: seed, timing: { stepMs: 20 } });
    relay = await startPasswordRelay('relayuser', RELAY_PASSWORD);
    const hash = await hashPassword(SMTP_PASSWORD, { N: 1024, r: 8, p: 1 });
    const httpPort = await freePort();
    env = await startTestDaemon({
      simulator,
      smtpYaml: [
        `tls: { cert: ${TLS}first.cert.pem, key: ${TLS}first.key.pem }`,
        'mode: submission',
        `auth: [{ user: alice@example.com, password_hash: "${hash}" }]`,
      ].join('\n'),
      yaml: [
        'senders:',
        "  - { match: '*@example.com', from_number: '+15550001111' }",
        `mail: { smtp_url: "smtp://relayuser:${RELAY_PASSWORD}@127.0.0.1:${relay.port}" }`,
      ].join('\n'),
      env: {
        TELNYX_API_URL: simulator.url,
        TELNYX_API_KEY: API_KEY,
        TELNYX_PUBLIC_KEY: simulator.publicKey,
        TELNYX_CONNECTION_ID: '1',
        FAXBRIDGE_HTTP__LISTEN: `127.0.0.1:${httpPort}`,
        FAXBRIDGE_HTTP__PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
        FAXBRIDGE_HTTP__URL_SECRET: URL_SECRET,
      },
      logDestination: sink,
    });
  });
  afterAll(async () => {
    await env?.stop();
    await relay?.close();
    await simulator?.close();
  });

  it('a full run logs none of the API key, passwords, signatures or link secrets', async () => {
    expect(env.daemon.config.sandbox).toBe(false);
    const pdf = await makePdf(2);
    const transport = (user: string, pass: string) =>
      nodemailer.createTransport({
        host: '127.0.0.1',
        port: env.smtpPort,
        requireTLS: true,
        tls: { ca: readFileSync(`${TLS}first.cert.pem`), servername: 'localhost' },
        auth: { user, pass },
      });
    const message = {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'Signed contract',
      attachments: [{ filename: 'contract.pdf', content: pdf, contentType: 'application/pdf' }],
    };

    // A login with the password typed into the user field: refused, and that "user name" is not logged.
    const typo = transport(TYPO_PASSWORD, SMTP_PASSWORD);
    await expect(typo.sendMail(message)).rejects.toMatchObject({ responseCode: 535 });
    typo.close();

    const good = transport('alice@example.com', SMTP_PASSWORD);
    const info = await good.sendMail(message);
    good.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Queued /);

    // Telnyx (the simulator, which insists on the API key) fetched the media and reported the delivery; the
    // receipt went out through the relay that insists on its password.
    const fax = await waitFor(
      () => simulator.faxes().find((candidate) => candidate.media?.sha256),
      15_000,
      'fax',
    );
    await waitFor(() => relay.received.some((mail) => /delivered/i.test(mail)), 15_000, 'delivery receipt');

    // Webhooks with signatures of our own making: one valid (unknown fax), one forged.
    const keys = makeWebhookKeyPair(9);
    const body = JSON.stringify({
      data: {
        id: 'evt-secret-test',
        event_type: 'fax.queued',
        occurred_at: new Date().toISOString(),
        payload: { fax_id: 'nope' },
      },
    });
    const signed = signWebhook(body, keys.secretKey);
    const ok = await fetch(`${env.httpUrl}/webhooks/telnyx`, { method: 'POST', headers: signed, body });
    expect(ok.status).toBe(200);
    const forged = {
      ...signed,
      'telnyx-signature-ed25519': signWebhook(body, makeWebhookKeyPair(3).secretKey)[
        'telnyx-signature-ed25519'
      ]!,
    };
    const refused = await fetch(`${env.httpUrl}/webhooks/telnyx`, { method: 'POST', headers: forged, body });
    expect(refused.status).toBe(401);
    await waitFor(() => log.includes('webhook refused: signature check failed'), 5000, 'the refusal logged');

    // The log is real and covers the whole run...
    expect(log).toContain('smtp auth failed');
    expect(log).toContain('smtp auth succeeded');
    expect(log).toContain('fax queued');
    expect(log).toMatch(/mail: sending through SMTP relay/);
    // ...and holds none of the secrets.
    const mediaSignature = new URL(fax.mediaUrl!).searchParams;
    const linkTokens = [...mediaSignature.values()].filter((value) => value.length >= 16);
    const secrets = {
      API_KEY,
      SMTP_PASSWORD,
      TYPO_PASSWORD,
      RELAY_PASSWORD,
      URL_SECRET,
      smtpAuthPlain: Buffer.from(`\0alice@example.com\0${SMTP_PASSWORD}`).toString('base64'),
      validSignature: signed['telnyx-signature-ed25519']!,
      forgedSignature: forged['telnyx-signature-ed25519'],
      ...Object.fromEntries(linkTokens.map((token, i) => [`mediaLinkToken${i}`, token])),
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(log.includes(secret), `${name} appears in the log`).toBe(false);
    }
    expect(log).not.toMatch(ANY_SIGNATURE);
    expect(linkTokens.length).toBeGreaterThan(0);
  }, 60_000);
});
