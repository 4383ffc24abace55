import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/* What the daemon keeps on disk is for its own account only: other local users must not read faxes. */

/** Every file and folder under `root` (itself included) with its permission bits. */
function modesUnder(root: string): Array<{ path: string; mode: number }> {
  const found: Array<{ path: string; mode: number }> = [];
  const visit = (entry: string) => {
    const info = lstatSync(entry);
    found.push({ path: path.relative(root, entry) || '.', mode: info.mode & 0o777 });
    if (info.isDirectory()) for (const name of readdirSync(entry)) visit(path.join(entry, name));
  };
  visit(root);
  return found;
}

describe('files under data_dir are owner-only', () => {
  let env: TestDaemon;
  let dataDir: string;
  const logLines: string[] = [];
  beforeAll(async () => {
    // A data dir as an older version left it: 0755 folders, 0644 documents and outbox files.
    dataDir = mkdtempSync(path.join(tmpdir(), 'fb-modes-'));
    chmodSync(dataDir, 0o755);
    mkdirSync(path.join(dataDir, 'documents', 'inbound'), { recursive: true, mode: 0o755 });
    mkdirSync(path.join(dataDir, 'outbox'), { mode: 0o755 });
    writeFileSync(path.join(dataDir, 'documents', 'inbound', 'old.pdf'), '%PDF-1.4\n', { mode: 0o644 });
    writeFileSync(path.join(dataDir, 'outbox', 'old.eml'), 'Subject: old\r\n\r\n', { mode: 0o644 });
    const logs = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(chunk.toString('utf8'));
        callback();
      },
    });
    env = await startTestDaemon({ dataDir, logDestination: logs });
  });
  afterAll(async () => {
    await env?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('after a sent and a received fax, no file or folder has group or other permissions', async () => {
    expect(logLines.join('')).toMatch(/"entries":\d+[^\n]*readable by their owner only/);

    const sent = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551230000@fax.localhost',
      subject: 'Private letter',
      attachments: [{ filename: 'letter.pdf', content: await makePdf(2), contentType: 'application/pdf' }],
    });
    expect(sent.code).toBe(250);
    const jobId = sent.response.split(' ')[3]!;
    const fax = await env.simulator.sendInbound({
      from: '+15557654321',
      to: '+15550001111',
      pages: 1,
      webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
    });
    // The delivered receipt and the received fax's mail are .eml files in the outbox (no mail.smtp_url).
    await waitFor(
      async () => {
        const outbox = await env.daemon.store.listOutboxOfJob(jobId);
        const inbound = await env.daemon.store.getInboundFax(fax.id);
        return outbox.some((row) => row.status === 'sent') && inbound?.status === 'mailed';
      },
      15_000,
      'receipt sent and received fax mailed',
    );
    await waitFor(
      () => readdirSync(path.join(dataDir, 'outbox')).filter((name) => name.endsWith('.eml')).length >= 3,
      10_000,
      'three .eml files',
    );

    const entries = modesUnder(dataDir);
    const names = entries.map((entry) => entry.path);
    // The files that matter are really there: database and WAL, the documents (the one sent, the PDF
    // transmitted with its header line, the one received), the mails, the link secret.
    expect(names).toEqual(
      expect.arrayContaining(['faxbridge.db', 'faxbridge.db-wal', 'faxbridge.db-shm', 'url-secret']),
    );
    expect(names.filter((name) => name.startsWith('documents/') && name.endsWith('.pdf')).length).toBe(4);
    const open = entries.filter((entry) => (entry.mode & 0o077) !== 0);
    expect(open.map((entry) => `${entry.path} ${entry.mode.toString(8)}`)).toEqual([]);
  });
});
