import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildCorpus, CORPUS_RCPT, type CorpusCase } from '../helpers/badInputCorpus.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { openSmtpDialogue } from '../helpers/smtpDialogue.js';
import { sendMail, startTestDaemon, type TestDaemon } from '../helpers/testDaemon.js';

/*
 * The bad-input corpus: malformed MIME, broken base64, huge headers, deep nesting, odd charsets and
 * file names, truncated, encrypted, garbage and enormous PDFs, a zip bomb named .pdf. Each gets a clear reply
 * (5xx with the reason, or 250 when the message is in fact fine), nothing refused is queued, and the daemon
 * takes a valid fax right after every one of them.
 */

const corpus = await buildCorpus();

describe('bad-input corpus', () => {
  let env: TestDaemon;
  let validPdf: Buffer;

  beforeAll(async () => {
    validPdf = await makePdf(1, { label: 'valid' });
    env = await startTestDaemon();
  });
  afterAll(async () => {
    await env.stop();
  });

  const jobCount = async () => (await env.daemon.store.listJobs({ limit: 10_000 })).length;
  const sendValid = () =>
    sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: CORPUS_RCPT,
      subject: 'valid',
      attachments: [{ filename: 'valid.pdf', content: validPdf, contentType: 'application/pdf' }],
    });

  it.each(corpus.map((entry) => [entry.name, entry] as [string, CorpusCase]))(
    '%s',
    async (_name, entry) => {
      const before = await jobCount();
      const result = await sendMail(env.smtpPort, {
        envelope: { from: 'alice@example.com', to: [CORPUS_RCPT] },
        raw: entry.raw,
      });
      expect(result.response).toMatch(entry.expect);
      expect(await jobCount()).toBe(before + (result.code === 250 ? 1 : 0));
      const valid = await sendValid();
      expect(valid.response).toMatch(/^250 2\.0\.0 Queued /);
    },
    60_000,
  );

  it('a command line over the limit is refused and the session ends; the daemon keeps serving', async () => {
    const smtp = await openSmtpDialogue(env.smtpPort);
    try {
      await smtp.reply();
      smtp.write(`EHLO ${'x'.repeat(70_000)}\r\n`);
      expect(await smtp.reply()).toMatch(/^(421|500) /);
    } finally {
      smtp.close();
    }
    expect((await sendValid()).response).toMatch(/^250 2\.0\.0 Queued /);
  });

  it('covers every kind of bad input the issue lists', () => {
    const names = corpus.map((entry) => entry.name).join('\n');
    for (const kind of [
      /multipart/,
      /base64/,
      /header/,
      /nested/,
      /charsets/,
      /truncated/,
      /garbage PDF/,
      /objects/,
      /zip bomb/,
    ]) {
      expect(names).toMatch(kind);
    }
    if (!process.env.CI && !corpus.some((entry) => entry.needsQpdf)) return;
    expect(names).toMatch(/password/);
  });
});
