import { PassThrough } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeDkimKey, makeDnsTable } from '../helpers/dnsTable.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon } from '../helpers/testDaemon.js';

/*
 * Sender authentication in relay mode: mail from a client that is not a trusted relay and did not
 * AUTH must prove its From domain with DMARC (aligned SPF or DKIM). DNS is a table; mail is DKIM-signed by
 * nodemailer. Each refusal is 550 5.7.1 saying what failed, and nothing is queued or faxed.
 */

const dns = makeDnsTable();
const goodKey = makeDkimKey();
const evilKey = makeDkimKey();
dns.set('TXT', 'sel._domainkey.example.com', goodKey.record);
dns.set('TXT', '_dmarc.example.com', [['v=DMARC1; p=reject']]);
dns.set('TXT', 'example.com', [['v=spf1 ip4:192.0.2.10 -all']]);
dns.set('TXT', 'sel._domainkey.evil.test', evilKey.record);
dns.set('TXT', '_dmarc.evil.test', [['v=DMARC1; p=reject']]);
dns.set('TXT', 'spf-only.test', [['v=spf1 ip4:127.0.0.1 -all']]);
dns.set('TXT', 'norecord.test', [['v=spf1 -all']]);
dns.fail('_dmarc.flaky.test');
dns.fail('flaky.test');

function logLines(sink: PassThrough): () => Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  sink.on('data', (chunk: Buffer) => {
    rest += chunk.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return () => lines;
}

describe('sender authentication of relayed mail (SPF/DKIM/DMARC)', () => {
  let env: TestDaemon;
  let trustedEnv: TestDaemon;
  let pdf: Buffer;
  const sink = new PassThrough();
  const logs = logLines(sink);

  beforeAll(async () => {
    pdf = await makePdf(1);
    // Loopback is a trusted relay by default; here it is not, so every test message must authenticate.
    env = await startTestDaemon({
      smtpYaml: 'trusted_relays: []',
      dnsResolver: dns.resolve,
      logDestination: sink,
    });
    // The office server at 127.0.0.1 (a /32, to show the CIDR match; sandbox would trust every client anyway).
    trustedEnv = await startTestDaemon({
      smtpYaml: 'trusted_relays: [127.0.0.1/32]',
      dnsResolver: dns.resolve,
    });
  });
  afterAll(async () => {
    await env.stop();
    await trustedEnv.stop();
  });

  const message = (from: string, extra: Record<string, unknown> = {}) => ({
    from,
    to: '+15551234567@fax.localhost',
    subject: 'Invoice',
    text: 'attached',
    attachments: [{ filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' }],
    ...extra,
  });
  const signedBy = (domainName: string, privateKey: string) => ({
    dkim: { domainName, keySelector: 'sel', privateKey },
  });
  const jobCount = async (target: TestDaemon) => (await target.daemon.store.listJobs({ limit: 1000 })).length;

  it('accepts mail with a valid DKIM signature aligned with the From domain (DMARC pass), and logs why', async () => {
    const before = await jobCount(env);
    const result = await sendMail(
      env.smtpPort,
      message('alice@example.com', signedBy('example.com', goodKey.privateKey)),
    );
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
    expect(await jobCount(env)).toBe(before + 1);
    const decision = logs().findLast((line) => line.msg === 'sender decision');
    expect(decision).toMatchObject({ senderCheck: 'dmarc', sender: 'alice@example.com', ok: true });
    expect(decision?.reason).toBe('example.com passed (aligned DKIM d=example.com)');
  });

  it('accepts aligned SPF without DKIM when the domain publishes no DMARC record', async () => {
    const result = await sendMail(env.smtpPort, message('bob@spf-only.test'));
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
  });

  it('refuses a spoofed From (no signature, SPF fail): 550 5.7.1 naming DMARC, SPF and DKIM; nothing queued', async () => {
    const before = await jobCount(env);
    const result = await sendMail(env.smtpPort, message('ceo@example.com'));
    expect(result.response).toBe(
      '550 5.7.1 Sender authentication failed: DMARC fail for example.com, policy reject (SPF fail for example.com, DKIM none)',
    );
    expect(await jobCount(env)).toBe(before);
    expect(logs().findLast((line) => line.msg === 'sender decision')).toMatchObject({
      senderCheck: 'dmarc',
      sender: 'ceo@example.com',
      ok: false,
    });
  });

  it('refuses a valid signature of another domain (DKIM not aligned)', async () => {
    const result = await sendMail(
      env.smtpPort,
      message('ceo@example.com', signedBy('evil.test', evilKey.privateKey)),
    );
    expect(result.response).toBe(
      '550 5.7.1 Sender authentication failed: DMARC fail for example.com, policy reject (SPF fail for example.com, DKIM pass for d=evil.test)',
    );
  });

  it('refuses a message changed after signing (DKIM body hash no longer matches)', async () => {
    const raw = await tamperedRaw(message('alice@example.com', signedBy('example.com', goodKey.privateKey)));
    const result = await sendMail(env.smtpPort, {
      envelope: { from: 'alice@example.com', to: ['+15551234567@fax.localhost'] },
      raw,
    });
    expect(result.response).toBe(
      '550 5.7.1 Sender authentication failed: DMARC fail for example.com, policy reject (SPF fail for example.com, DKIM neutral for d=example.com)',
    );
  });

  it('refuses a domain without DMARC record and without any pass', async () => {
    const result = await sendMail(env.smtpPort, message('x@norecord.test'));
    expect(result.response).toBe(
      '550 5.7.1 Sender authentication failed: norecord.test has no DMARC record and neither SPF nor DKIM passed for it (SPF fail for norecord.test, DKIM none)',
    );
  });

  it('answers 451 4.4.3 when DNS does not answer, so the sending server retries', async () => {
    const result = await sendMail(env.smtpPort, message('x@flaky.test'));
    expect(result.response).toMatch(
      /^451 4\.4\.3 Sender authentication is not possible now, try again later: /,
    );
  });

  it('trusts a trusted relay (the office server) without DNS checks, and says so in the log', async () => {
    const asked = dns.asked.length;
    const result = await sendMail(trustedEnv.smtpPort, message('ceo@example.com'));
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
    expect(dns.asked.length).toBe(asked);
  });

  it('keeps serving a valid message right after the refusals', async () => {
    const result = await sendMail(
      env.smtpPort,
      message('alice@example.com', signedBy('example.com', goodKey.privateKey)),
    );
    expect(result.response).toMatch(/^250 2\.0\.0 Queued /);
  });
});

/** A DKIM-signed message whose text part was changed after signing (as a forwarding list footer would). */
async function tamperedRaw(options: Record<string, unknown>): Promise<Buffer> {
  const nodemailer = await import('nodemailer');
  const transport = nodemailer.default.createTransport({ streamTransport: true, buffer: true });
  const info = await transport.sendMail(options);
  const raw = (info.message as Buffer).toString('latin1');
  return Buffer.from(raw.replace('attached', 'ATTACHED'), 'latin1');
}
