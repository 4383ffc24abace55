import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HOUR, MINUTE } from '../../src/lib/units.js';
import { makeDnsTable } from '../helpers/dnsTable.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { openSmtpDialogue, type SmtpDialogue, tryConnect } from '../helpers/smtpDialogue.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * Destination policy and abuse limits at the SMTP edge: blocked prefixes and countries at RCPT,
 * per-sender faxes per hour (RCPT) and pages per day (end of DATA) answered 451 4.7.1 and recovering after the
 * window (an injected clock moves time), connections per address per minute, maximum clients, the idle and the
 * DATA deadlines. After each refusal the daemon still takes a valid fax.
 */

/** Every SMTP refusal the daemon has counted (`faxbridge_smtp_rejected_total`, all reasons). */
async function refusedTotal(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^faxbridge_smtp_rejected_total\{[^}]*\} (\d+)$/gm))
    total += Number(match[1]);
  return total;
}

/** A clock the test moves forward; the daemon reads it for job times and every window. */
function movableClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) };
}

describe('per-sender limits and destination policy', () => {
  const clock = movableClock();
  let env: TestDaemon;
  let onePage: Buffer;
  let fourPages: Buffer;

  beforeAll(async () => {
    [onePage, fourPages] = await Promise.all([makePdf(1), makePdf(4)]);
    env = await startTestDaemon({
      yaml: 'limits: { faxes_per_hour: 2, pages_per_day: 6 }\n',
      smtpYaml: 'allowed_countries: [US, CA]\nblocked_prefixes: ["+1555999"]',
      clock,
    });
  });
  afterAll(async () => {
    await env.stop();
  });

  const fax = (to: string | string[], pdf: Buffer, from = 'alice@example.com') => ({
    from,
    to,
    subject: 'Fax',
    attachments: [{ filename: 'doc.pdf', content: pdf, contentType: 'application/pdf' }],
  });

  it('refuses a premium-rate or operator-blocked prefix and a country not allowed, at RCPT with 550 5.1.1', async () => {
    const premium = await sendMail(env.smtpPort, fax('+19005550100@fax.localhost', onePage));
    expect(premium.response).toMatch(/^550 5\.1\.1 \+19005550100 is a blocked number range \(\+1900\)/);
    const operator = await sendMail(env.smtpPort, fax('+15559990000@fax.localhost', onePage));
    expect(operator.response).toMatch(/^550 5\.1\.1 \+15559990000 is a blocked number range \(\+1555999\)/);
    const abroad = await sendMail(env.smtpPort, fax('+442079460000@fax.localhost', onePage));
    expect(abroad.response).toMatch(
      /^550 5\.1\.1 \+442079460000 is in GB, which this gateway does not fax to \(allowed: US, CA\)/,
    );
    const caribbean = await sendMail(env.smtpPort, fax('+18095550100@fax.localhost', onePage));
    expect(caribbean.response).toMatch(/^550 5\.1\.1 \+18095550100 is in DO, /);
    expect(await env.daemon.store.listJobs({ limit: 100 })).toHaveLength(0);
  });

  it('faxes per hour: the third fax in the hour gets 451 4.7.1 at RCPT, and goes through after the hour', async () => {
    const first = await sendMail(
      env.smtpPort,
      fax(['+15551230001@fax.localhost', '+15551230002@fax.localhost'], onePage),
    );
    expect(first.response).toMatch(/^250 2\.0\.0 Queued /);
    const third = await sendMail(env.smtpPort, fax('+15551230003@fax.localhost', onePage));
    expect(third.code).toBe(451);
    expect(third.response).toBe(
      '451 4.7.1 alice@example.com has sent 2 of at most 2 faxes this hour; try again later',
    );
    // Another sender has its own count.
    const bob = await sendMail(env.smtpPort, fax('+15551230003@fax.localhost', onePage, 'bob@example.com'));
    expect(bob.response).toMatch(/^250 /);
    clock.advance(HOUR + MINUTE);
    const later = await sendMail(env.smtpPort, fax('+15551230003@fax.localhost', onePage));
    expect(later.response).toMatch(/^250 2\.0\.0 Queued /);
  });

  it('pages per day: a document that would pass the limit gets 451 4.7.1 at end of DATA, and goes after a day', async () => {
    // alice has 3 one-page faxes in the last 24 hours; 3 + 4 pages > 6.
    const jobs = (await env.daemon.store.listJobs({ limit: 100 })).length;
    const tooMany = await sendMail(env.smtpPort, fax('+15551230004@fax.localhost', fourPages));
    expect(tooMany.response).toBe(
      '451 4.7.1 alice@example.com has sent 3 of at most 6 fax pages in 24 hours; try again later',
    );
    expect((await env.daemon.store.listJobs({ limit: 100 })).length).toBe(jobs);
    clock.advance(24 * HOUR);
    const tomorrow = await sendMail(env.smtpPort, fax('+15551230004@fax.localhost', fourPages));
    expect(tomorrow.response).toMatch(/^250 2\.0\.0 Queued /);
  });
});

describe('connection limits and deadlines', () => {
  const clock = movableClock();
  let env: TestDaemon;
  let pdf: Buffer;

  beforeAll(async () => {
    pdf = await makePdf(1);
    env = await startTestDaemon({
      // Loopback is no trusted relay here, so the per-address limit applies to the test's connections.
      smtpYaml: [
        'trusted_relays: [192.0.2.1/32]',
        'connections_per_minute: 4',
        'max_clients: 2',
        'socket_timeout: 1500ms',
        'data_timeout: 1s',
      ].join('\n'),
      clock,
      // Loopback is not trusted here, so a valid fax must pass SPF: example.com allows 127.0.0.1.
      dnsResolver: makeDnsTable({ 'TXT example.com': [['v=spf1 ip4:127.0.0.1 -all']] }).resolve,
    });
  });
  afterAll(async () => {
    await env.stop();
  });

  it('a client over its connections per minute gets 421 4.7.0, and may connect again a minute later', async () => {
    clock.advance(2 * MINUTE);
    for (let i = 0; i < 4; i++)
      expect(await tryConnect(env.smtpPort)).toMatchObject({ greeting: expect.stringMatching(/^220 /) });
    expect(await tryConnect(env.smtpPort)).toEqual({
      greeting: '421 4.7.0 Too many connections from your address (at most 4 a minute); try again later',
    });
    clock.advance(MINUTE + 1000);
    expect(await tryConnect(env.smtpPort)).toMatchObject({ greeting: expect.stringMatching(/^220 /) });
  });

  it('more than max_clients at once: the next one gets 421', async () => {
    clock.advance(2 * MINUTE);
    const one = await openSmtpDialogue(env.smtpPort);
    const two = await openSmtpDialogue(env.smtpPort);
    try {
      expect(await one.reply()).toMatch(/^220 /);
      expect(await two.reply()).toMatch(/^220 /);
      expect(await tryConnect(env.smtpPort)).toMatchObject({
        greeting: expect.stringMatching(/^421 .*Too many connected clients/),
      });
    } finally {
      one.close();
      two.close();
    }
  });

  it('an idle client is cut off after socket_timeout', async () => {
    clock.advance(2 * MINUTE);
    // The previous test's two sessions may still be closing (max_clients: 2).
    await waitFor(async () => 'greeting' in (await tryConnect(env.smtpPort)), 5000, 'a free client slot');
    clock.advance(2 * MINUTE);
    const smtp = await openSmtpDialogue(env.smtpPort);
    try {
      expect(await smtp.reply()).toMatch(/^220 /);
      expect(await smtp.reply(5000)).toMatch(/^421 .*[Tt]imeout/);
    } finally {
      smtp.close();
    }
  });

  it('a DATA transfer that trickles past data_timeout is cut off with 421 4.4.2; nothing is left behind', async () => {
    clock.advance(2 * MINUTE);
    const smtp = await openSmtpDialogue(env.smtpPort);
    try {
      await smtp.reply();
      await smtp.command('EHLO client.test');
      expect(await smtp.command('MAIL FROM:<alice@example.com>')).toMatch(/^250 /);
      expect(await smtp.command('RCPT TO:<+15551234567@fax.localhost>')).toMatch(/^250 /);
      expect(await smtp.command('DATA')).toMatch(/^354 /);
      // A byte every 400 ms keeps the idle timer (1.5 s) happy but not the DATA deadline (1 s).
      const trickle = setInterval(() => smtp.write('X-Slow: header\r\n'), 400);
      try {
        expect(await smtp.reply(5000)).toBe('421 4.4.2 The message took longer than 1 s to arrive; closing');
      } finally {
        clearInterval(trickle);
      }
    } finally {
      smtp.close();
    }
    await waitFor(
      () => readdirSync(path.join(env.dataDir, 'tmp')).length === 0,
      20_000,
      'work files removed',
    );
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
  });

  // These clients leave while the daemon is still making the message's work folder, before the parse listens to the
  // stream, or just after: either way the cut-off must reach the parse (smtp/messageCutOff.ts). Which of the two
  // happens depends on timing, hence several clients, half of them gone before the 354 reached them.
  it('clients that disconnect in the middle of DATA leave nothing behind (the parse ends, files go)', async () => {
    const tmp = path.join(env.dataDir, 'tmp');
    const head = 'From: alice@example.com\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n';
    for (let client = 1; client <= 6; client++) {
      clock.advance(2 * MINUTE);
      const refusedBefore = await refusedTotal(env.httpUrl);
      const smtp = await openSmtpDialogue(env.smtpPort);
      await smtp.reply();
      await smtp.command('EHLO client.test');
      await smtp.command('MAIL FROM:<alice@example.com>');
      await smtp.command('RCPT TO:<+15551234567@fax.localhost>');
      if (client % 2 === 0) {
        smtp.write(`DATA\r\n${head}`);
        smtp.socket.end();
      } else {
        expect(await smtp.command('DATA')).toMatch(/^354 /);
        smtp.write(head);
        await waitFor(
          () => existsSync(tmp) && readdirSync(tmp).length > 0,
          20_000,
          'the message being parsed',
        );
        smtp.close();
      }
      // The transaction has ended (answered, or cut off by the DATA deadline) and its files are gone.
      await waitFor(
        async () => (await refusedTotal(env.httpUrl)) > refusedBefore && readdirSync(tmp).length === 0,
        20_000,
        `client ${client}'s transaction ended and its work files removed`,
      );
      smtp.close();
    }
    expect(await env.daemon.store.listJobs({ limit: 10 })).toHaveLength(0);
  });

  it('still takes a valid fax afterwards', async () => {
    clock.advance(2 * MINUTE);
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'x',
      attachments: [{ filename: 'a.pdf', content: pdf }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
  });
});

describe('connection slots: idle clients cannot lock the relay out', () => {
  let env: TestDaemon;
  const held: SmtpDialogue[] = [];

  beforeAll(async () => {
    // Defaults for max_clients (100), max_clients_per_address (10) and relay_slots (a fifth); only 127.0.0.1
    // is the office's relay, every other loopback address plays another host of the allowed networks.
    env = await startTestDaemon({ smtpYaml: 'trusted_relays: [127.0.0.1/32]' });
  });
  afterAll(async () => {
    for (const smtp of held) smtp.close();
    await env.stop();
  });

  /** Opens a session from `localAddress` and keeps it idle; resolves with its first reply. */
  async function hold(localAddress: string): Promise<string> {
    const smtp = await openSmtpDialogue(env.smtpPort, '127.0.0.1', { localAddress });
    held.push(smtp);
    return smtp.reply();
  }

  it('one address holds at most 10 sessions: the 11th gets 421 4.7.0 with the reason', async () => {
    for (let i = 0; i < 10; i++) expect(await hold('127.0.0.2')).toMatch(/^220 /);
    expect(await hold('127.0.0.2')).toBe(
      '421 4.7.0 Too many open connections from your address (at most 10 at once); try again later',
    );
  });

  it('100 idle sessions from other addresses leave room for the trusted relay, which still faxes', async () => {
    const hosts = Array.from({ length: 90 }, (_, i) => `127.0.0.${i + 3}`);
    const greetings = await Promise.all(hosts.map(hold));
    // 10 held above + 70 here fill the 80 slots open to everyone; the rest are told why.
    expect(greetings.filter((greeting) => greeting.startsWith('220 '))).toHaveLength(70);
    expect(greetings.filter((greeting) => !greeting.startsWith('220 '))).toEqual(
      Array(20).fill('421 4.7.0 Too many connected clients (at most 100); try again in a moment'),
    );
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551234567@fax.localhost',
      subject: 'through the reserved slots',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
  });
});
