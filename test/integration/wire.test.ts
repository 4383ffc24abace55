import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import UPNG from '@pdf-lib/upng';
import { simpleParser } from 'mailparser';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterEach, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/**
 * What goes on the wire, end to end: real SMTP in, the simulator as Telnyx over HTTP fetching the media URL, and
 * the transmitted PDF read back from storage with poppler's pdftotext.
 */
let env: TestDaemon | null = null;
afterEach(async () => {
  await env?.stop();
  env = null;
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function fax(
  daemon: TestDaemon,
  to: string,
  options: { subject: string; pages?: number; text?: string; toHeader?: string },
) {
  const result = await sendMail(daemon.smtpPort, {
    from: 'Zoë Müller <zoe@example.com>',
    to: options.toHeader ?? `${to}@fax.localhost`,
    subject: options.subject,
    text: options.text ?? 'Please see the attached referral.\n\n-- \nZoë Müller, Example Dental',
    attachments: [
      { filename: 'referral.pdf', content: await makePdf(options.pages ?? 2, { label: 'orig' }) },
    ],
  });
  expect(result.code, result.response).toBe(250);
  return /Queued (\S+)/.exec(result.response)![1]!;
}

/** Waits for the job's end and returns its transmitted PDF's pages as pdftotext reads them. */
async function transmitted(daemon: TestDaemon, jobId: string) {
  await waitFor(async () => (await daemon.daemon.store.getJob(jobId))?.finished_at, 15_000, 'job end');
  const row = await daemon.daemon.store.getTransmittedDocument(jobId);
  expect(row).not.toBeNull();
  const file = path.join(daemon.dataDir, 'documents', row!.storage_key);
  const text = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  expect(text.status).toBe(0);
  return {
    row: row!,
    bytes: readFileSync(file),
    pages: text.stdout
      .split('\f')
      .slice(0, -1)
      .map((page) => page.replace(/[ \t]+/g, ' ')),
  };
}

describe('the transmitted PDF', () => {
  it('[cover]: a cover page, a header line on every page, the originals intact, and that is what Telnyx got', async () => {
    env = await startTestDaemon();
    const jobId = await fax(env, '+15557654321', {
      subject: 'Referral [COVER] 請求書',
      toHeader: '"Dr. Jane Smith" <+15557654321@fax.localhost>',
    });
    const sent = await transmitted(env, jobId);
    expect(sent.pages).toHaveLength(3);
    sent.pages.forEach((page, index) => {
      expect(page).toContain(`P.${index + 1}/3`);
      expect(page).toContain('FROM: Zoë Müller +15550000000 TO: +15557654321');
    });
    const cover = sent.pages[0]!;
    expect(cover).toContain('Dr. Jane Smith');
    expect(cover).toContain('Referral 請求書');
    expect(cover).not.toMatch(/\[cover\]/i);
    expect(cover).toContain('Please see the attached referral.');
    expect(cover).not.toContain('Example Dental');
    expect(sent.pages[1]).toContain('orig page 1');
    expect(sent.pages[2]).toContain('orig page 2');

    const [simFax] = env.simulator.faxes();
    expect(simFax?.media?.sha256).toBe(sha256(sent.bytes));
    expect(simFax?.pageCount).toBe(3);
    expect(simFax?.request).toMatchObject({ quality: 'high' });

    // `faxbridge job ID --pdf FILE` writes exactly that PDF.
    const out = path.join(env.dataDir, 'sent.pdf');
    const cli = spawnSync(
      process.execPath,
      ['dist/src/cli.js', 'job', '--config', path.join(env.dataDir, 'faxbridge.yaml'), '--pdf', out, jobId],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(sent.bytes));
  });

  it('[nocover] wins over cover.default; [fine] asks for very_high', async () => {
    env = await startTestDaemon({ yaml: 'cover:\n  default: true\n' });
    const jobId = await fax(env, '+15557654322', { subject: 'Form [nocover][Fine]' });
    const sent = await transmitted(env, jobId);
    expect(sent.pages).toHaveLength(2);
    expect(sent.pages[0]).toContain('P.1/2');
    expect(sent.pages[0]).toContain('orig page 1');
    expect(env.simulator.faxes()[0]?.request).toMatchObject({ quality: 'very_high' });
  });

  it('fills and flattens a cover template', async () => {
    const template = await PDFDocument.create();
    const page = template.addPage([612, 792]);
    const font = await template.embedFont(StandardFonts.Helvetica);
    ['to', 'from_number', 'subject', 'pages'].forEach((name, index) =>
      template
        .getForm()
        .createTextField(name)
        .addToPage(page, { x: 72, y: 600 - 40 * index, width: 400, height: 24, font }),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-cover-'));
    const file = path.join(dir, 'cover.pdf');
    writeFileSync(file, await template.save());
    env = await startTestDaemon({ yaml: `cover:\n  template: ${JSON.stringify(file)}\n` });
    const jobId = await fax(env, '+15557654323', {
      subject: 'Lab results [cover]',
      toHeader: '"Lab" <+15557654323@fax.localhost>',
    });
    const sent = await transmitted(env, jobId);
    expect(sent.pages).toHaveLength(3);
    expect(sent.pages[0]).toContain('Lab results');
    expect(sent.pages[0]).toContain('+15550000000');
    expect((await PDFDocument.load(sent.bytes)).getForm().getFields()).toHaveLength(0);
  });

  it('retries a signalling failure with t38_enabled: false', async () => {
    env = await startTestDaemon({ yaml: 'retry:\n  delays:\n    dropped: 1s\n' });
    env.simulator.failNumber('+15557654324', ['fax_signaling_error']);
    const jobId = await fax(env, '+15557654324', { subject: 'Retry me' });
    await waitFor(async () => (await env!.daemon.store.getJob(jobId))?.status === 'delivered', 20_000);
    const requests = env.simulator.faxes().map((simFax) => simFax.request as Record<string, unknown>);
    expect(requests).toHaveLength(2);
    expect(requests[0]).not.toHaveProperty('t38_enabled');
    expect(requests[1]).toMatchObject({ t38_enabled: false });
    // One transmitted PDF for both attempts: what is stored is what was sent each time.
    const media = env.simulator.faxes().map((simFax) => simFax.media?.sha256);
    expect(media[0]).toBe(media[1]);
  });
});

describe('proof of what was sent', () => {
  it('the delivered receipt shows the first transmitted page inline, header line band included', async () => {
    env = await startTestDaemon();
    const jobId = await fax(env, '+15557654325', { subject: 'Proof please' });
    const eml = await waitFor(
      () => {
        const dir = path.join(env!.dataDir, 'outbox');
        const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.eml')) : [];
        const found = files
          .map((name) => readFileSync(path.join(dir, name), 'utf8'))
          .find((text) => text.includes(`Fax to +15557654325 delivered`));
        return found;
      },
      15_000,
      'delivered receipt',
    );
    const mail = await simpleParser(eml, { keepCidLinks: true });
    const png = mail.attachments.find((part) => part.contentType === 'image/png');
    expect(png?.cid).toBeTruthy();
    expect(mail.html).toContain(`cid:${png!.cid}`);
    const image = UPNG.decode(new Uint8Array(png!.content).buffer);
    const rgba = new Uint8Array(UPNG.toRGBA8(image)[0]!);
    // The header line sits in the top 18 of 792 points: some of those rows must hold dark pixels.
    const bandRows = Math.ceil((image.height * 18) / 792);
    let dark = 0;
    for (let i = 0; i < image.width * bandRows * 4; i += 4) if (rgba[i]! < 128) dark += 1;
    expect(dark).toBeGreaterThan(50);
    expect(jobId).toBeTruthy();
  });
});
