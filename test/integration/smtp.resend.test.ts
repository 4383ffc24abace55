import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { composeEml, pdfAttachment } from '../helpers/emlFixtures.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { postgresReachable, type PostgresSchema, withPostgres } from '../helpers/postgres.js';
import { openSmtpDialogue, type SmtpDialogue, toDataBytes } from '../helpers/smtpDialogue.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * A mail re-sent with the same Message-ID is answered with its existing jobs and not faxed again (a client that
 * lost our 250); but only when it is the same mail: same sender, Message-ID, documents and numbers. Two sessions
 * delivering one mail at the same instant must also fax it once. Run on both stores.
 */
const postgresUp = await postgresReachable();
const DOMAIN = 'fax.localhost';
const JOB = /^250 2\.0\.0 Queued ([A-Za-z0-9_-]{8,40}) \+\d+$/;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(['sqlite', 'postgres'] as const)('resends on %s', (dialect) => {
  const skip = dialect === 'postgres' && !postgresUp;
  const test = it.skipIf(skip);
  let env: TestDaemon;
  let database: PostgresSchema | null = null;

  beforeAll(async () => {
    if (skip) return;
    if (dialect === 'postgres') database = await withPostgres();
    // Without a header line the stored document is what is faxed, so the fetched bytes name the document.
    env = await startTestDaemon({
      yaml:
        'header:\n  enabled: false\n' +
        (database ? `database:\n  url: ${JSON.stringify(database.url)}\n` : ''),
    });
  });
  afterAll(async () => {
    await env?.stop();
    await database?.drop();
  });

  /** POST /faxes the simulator answered for this number (every one is a fax placed). */
  const postsTo = (to: string) =>
    env.simulator
      .requests()
      .filter((r) => r.method === 'POST' && r.path === '/v2/faxes' && (r.body as { to?: string })?.to === to);

  async function jobsTo(to: string) {
    return (await env.daemon.store.listJobs({ limit: 1000 })).filter((job) => job.to_number === to);
  }

  /** Waits until the number's only job is delivered, so any second POST would have happened by then. */
  async function deliveredOnce(to: string) {
    await waitFor(
      async () => (await jobsTo(to)).every((job) => job.status === 'delivered'),
      20_000,
      `jobs to ${to} delivered`,
    );
  }

  /** A session in DATA with the whole message written but not its final dot. */
  async function upToFinalDot(data: string, to: string): Promise<SmtpDialogue> {
    const session = await openSmtpDialogue(env.smtpPort);
    expect(await session.reply()).toMatch(/^220 /);
    expect(await session.command('EHLO client.example.com')).toMatch(/^250/);
    expect(await session.command('MAIL FROM:<alice@example.com>')).toMatch(/^250/);
    expect(await session.command(`RCPT TO:<${to}@${DOMAIN}>`)).toMatch(/^250/);
    expect(await session.command('DATA')).toMatch(/^354/);
    session.write(data);
    return session;
  }

  test('two sessions release the same mail at one instant: both 250 with the same job, one fax', async () => {
    const to = dialect === 'sqlite' ? '+15557100001' : '+15557200001';
    const eml = await composeEml({
      from: 'alice@example.com',
      to: `${to}@${DOMAIN}`,
      messageId: `<race-${dialect}@example.com>`,
      attachments: [pdfAttachment(await makePdf(2, { label: 'race' }))],
    });
    const data = toDataBytes(eml);
    const sessions = await Promise.all([upToFinalDot(data, to), upToFinalDot(data, to)]);
    // Both final dots leave in the same tick: the two deliveries are processed side by side.
    for (const session of sessions) session.write('\r\n.\r\n');
    const replies = await Promise.all(sessions.map((session) => session.reply(30_000)));
    for (const session of sessions) session.close();

    const ids = replies.map((reply) => JOB.exec(reply)?.[1]);
    expect(replies[0]).toMatch(JOB);
    expect(replies[1]).toMatch(JOB);
    expect(ids[1]).toBe(ids[0]);
    expect((await jobsTo(to)).map((job) => job.id)).toEqual([ids[0]]);
    await deliveredOnce(to);
    expect(postsTo(to)).toHaveLength(1);
  });

  test('same Message-ID: an exact resend is the same job; another document or number is a new fax', async () => {
    const [first, second] =
      dialect === 'sqlite' ? ['+15557100002', '+15557100003'] : ['+15557200002', '+15557200003'];
    const letter = await makePdf(1, { label: 'letter' });
    const invoice = await makePdf(1, { label: 'invoice' });
    const mail = (to: string, pdf: Buffer) =>
      sendMail(env.smtpPort, {
        from: 'alice@example.com',
        to: `${to}@${DOMAIN}`,
        messageId: `<always-the-same-${dialect}@example.com>`,
        text: 'Fax',
        attachments: [{ filename: 'document.pdf', content: pdf, contentType: 'application/pdf' }],
      });

    const original = await mail(first, letter);
    const originalJob = JOB.exec(original.response)?.[1];
    expect(originalJob).toBeDefined();
    await deliveredOnce(first);

    const resend = await mail(first, letter);
    expect(resend.response).toBe(original.response);

    const otherDocument = await mail(first, invoice);
    const otherDocumentJob = JOB.exec(otherDocument.response)?.[1];
    expect(otherDocumentJob).toBeDefined();
    expect(otherDocumentJob).not.toBe(originalJob);

    const otherNumber = await mail(second, letter);
    expect(otherNumber.response).toMatch(new RegExp(`^250 2\\.0\\.0 Queued \\S+ \\${second}$`));

    await deliveredOnce(first);
    await deliveredOnce(second);
    expect((await jobsTo(first)).map((job) => job.id).sort()).toEqual([originalJob, otherDocumentJob].sort());
    expect(postsTo(first)).toHaveLength(2);
    expect(postsTo(second)).toHaveLength(1);
    const faxed = env.simulator.faxes().filter((fax) => fax.to === first);
    expect(faxed.map((fax) => fax.media?.sha256).sort()).toEqual([sha256(letter), sha256(invoice)].sort());
  });
});
