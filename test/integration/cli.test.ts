import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openSqliteStore } from '../../src/store/sqlite/openSqliteStore.js';
import { CLI_PATH } from '../helpers/daemonProcess.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../config/faxbridge.example.yaml', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without anything that would change how a config is read (FAXBRIDGE_*, TELNYX_*). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(FAXBRIDGE_|TELNYX_)/.test(name)),
  );
  return { ...env, ...extra };
}

/** Runs `faxbridge ARGS` as a real process (dist build) and collects its output and exit code. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('faxbridge check-config', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-cli-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on the documented example', async () => {
    const result = await cli(['check-config', EXAMPLE_CONFIG]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/OK \(sandbox mode\)/);
    expect(result.code).toBe(0);
  });

  it('exits 1 and names every bad key, one line each', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(
      file,
      [
        'smtp:',
        '  listen: nowhere',
        '  max_recipients: 0',
        '  colour: blue',
        'senders:',
        '  - match: alice@example.com',
        '    from_number: +15550001111',
        'retry:',
        '  delays: { busy: soon }',
        'shutdown_grace: a while',
        'unknown_section: 1',
      ].join('\n'),
    );
    const result = await cli(['check-config', file]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    for (const key of [
      'smtp.listen',
      'smtp.max_recipients',
      'smtp.colour',
      'senders.0.from_number',
      'retry.delays.busy',
      'shutdown_grace',
      'unknown_section',
    ]) {
      expect(
        lines.some((line) => line.startsWith(`${key}: `)),
        `${key} in\n${result.stderr}`,
      ).toBe(true);
    }
  });

  it('applies the environment as start does', async () => {
    const result = await cli(['check-config', EXAMPLE_CONFIG], { FAXBRIDGE_SMTP__MAX_RECIPIENTS: 'many' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^smtp\.max_recipients: /m);
  });

  it('warns, without failing, when documents.office is local and no LibreOffice is on PATH', async () => {
    const file = path.join(dir, 'office.yaml');
    writeFileSync(file, 'documents:\n  office: local\n');
    // A PATH without soffice; the command itself runs by its absolute path.
    const missing = await cli(['check-config', file], { PATH: dir });
    expect(missing.code).toBe(0);
    expect(missing.stderr).toMatch(
      /^warning: documents\.office: local, but LibreOffice \(soffice\) is not on PATH: Office files will be answered 451 .*apt-get install libreoffice-writer-nogui/m,
    );
    // With LibreOffice on PATH (installed here, as in CI), or with Office files sent elsewhere, nothing to say.
    expect((await cli(['check-config', file])).stderr).toBe('');
    writeFileSync(file, 'documents:\n  office: "off"\n');
    expect((await cli(['check-config', file], { PATH: dir })).stderr).toBe('');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['check-config'])).code).toBe(2);
    expect((await cli(['check-config', 'a.yaml', 'b.yaml'])).code).toBe(2);
    expect((await cli(['no-such-command'])).code).toBe(2);
  });
});

describe('faxbridge --help', () => {
  it('lists every command and answers --help on each with exit 0', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['start', 'check-config', 'send', 'jobs', 'job', 'retry', 'cancel']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      const help = await cli([name, '--help']);
      expect(help.code, name).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: faxbridge ${name}`));
    }
  });
});

describe('faxbridge send, jobs, job, retry and cancel on a data dir', () => {
  let dir: string;
  let config: string;
  let pdf: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-cli-jobs-'));
    config = path.join(dir, 'faxbridge.yaml');
    // No daemon runs: the commands work on the store alone (sandbox mode, everybody may send).
    writeFileSync(config, `data_dir: ${JSON.stringify(dir)}\nreceipts:\n  on_failed: true\n`);
    pdf = path.join(dir, 'letter.pdf');
    writeFileSync(pdf, await makePdf(2, { label: 'cli' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** `faxbridge send` of FILES to one number, as the given sender. */
  const sendAs = (sender: string, to: string, ...files: string[]) =>
    cli(['send', '--config', config, '--to', to, '--as', sender, ...files]);

  it('queues a fax without an email, then lists, shows, cancels and retries it', async () => {
    const sent = await cli([
      'send',
      '--config',
      config,
      '--to',
      '(555) 123-4567',
      '--as',
      'Bob@Example.com',
      pdf,
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const match = /^Queued ([A-Za-z0-9_-]{8,40}) \+15551234567$/m.exec(sent.stdout);
    expect(match, sent.stdout).not.toBeNull();
    const jobId = match![1]!;

    const listed = await cli(['jobs', '--config', config, '--status', 'queued']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(jobId);
    const json = await cli(['jobs', '--config', config, '--json']);
    expect(JSON.parse(json.stdout.trim().split('\n')[0]!)).toMatchObject({
      id: jobId,
      sender: 'bob@example.com',
    });

    const shown = await cli(['job', '--config', config, jobId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/status:\s+queued/);
    expect(shown.stdout).toMatch(/file:\s+letter\.pdf/);
    expect(shown.stdout).toMatch(/pages:\s+2/);

    // Still queued: nothing to retry yet.
    const early = await cli(['retry', '--config', config, jobId]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/still queued/);

    const canceled = await cli(['cancel', '--config', config, jobId]);
    expect(canceled.code).toBe(0);
    expect(canceled.stdout).toMatch(new RegExp(`^Canceled ${jobId} `));
    const again = await cli(['cancel', '--config', config, jobId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already canceled/);

    const history = JSON.parse((await cli(['job', '--config', config, '--json', jobId])).stdout) as {
      job: { status: string; failure_reason: string };
      outbox: Array<{ kind: string; status: string }>;
    };
    expect(history.job).toMatchObject({ status: 'canceled', failure_reason: 'sender_canceled' });
    expect(history.outbox).toEqual([expect.objectContaining({ kind: 'receipt_failed', status: 'pending' })]);

    const retried = await cli(['retry', '--config', config, jobId]);
    expect(retried.code).toBe(0);
    const retry = /^Queued ([A-Za-z0-9_-]{8,40}) \+15551234567 \(retry of (\S+)\)$/m.exec(retried.stdout);
    expect(retry?.[2]).toBe(jobId);

    const store = await openSqliteStore(path.join(dir, 'faxbridge.db'));
    try {
      const fresh = await store.getJob(retry![1]!);
      expect(fresh).toMatchObject({ status: 'queued', attempt: 0, to_number: '+15551234567' });
      expect((await store.getJob(jobId))?.status).toBe('canceled');
      expect((await store.listJobsOfMessage(fresh!.message_row_id)).map((job) => job.id)).toEqual([
        jobId,
        fresh!.id,
      ]);
    } finally {
      await store.close();
    }
  });

  it('faxes a photo, a text file and a PDF given together as one document, in that order', async () => {
    const photo = path.join(dir, 'IMG_2041.jpg');
    writeFileSync(
      photo,
      await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#ffffff' } })
        .jpeg()
        .toBuffer(),
    );
    const notes = path.join(dir, 'notes.txt');
    writeFileSync(notes, 'Please call back before Friday.\n');
    const sent = await sendAs('a@example.com', '+15551234567', photo, notes, pdf);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const jobId = /^Queued (\S+) \+15551234567$/m.exec(sent.stdout)![1]!;
    const shown = await cli(['job', '--config', config, jobId]);
    expect(shown.stdout).toMatch(/file:\s+IMG_2041\.jpg \+ notes\.txt \+ letter\.pdf/);
    // One page for the photo, one for the note, the letter's two.
    expect(shown.stdout).toMatch(/pages:\s+4/);
  });

  it('refuses what SMTP would refuse, with exit 1', async () => {
    const badNumber = await sendAs('a@example.com', '+1900555123', pdf);
    expect(badNumber.code).toBe(1);
    // An archive is refused as a mail's would be: the files themselves, please.
    const archive = path.join(dir, 'letters.zip');
    writeFileSync(archive, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 1)]));
    const refused = await sendAs('a@example.com', '+15551234567', archive);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/letters\.zip/);
    expect(refused.stderr).toMatch(/files themselves/);
    const nothing = await sendAs('a@example.com', '+15551234567', dir);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/cannot read/);
    const missing = await cli(['job', '--config', config, 'fx_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no job fx_doesnotexist/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['send', '--config', config, pdf])).code).toBe(2);
    expect((await cli(['send', '--config', config, '--to', '+15551234567', pdf])).code).toBe(2);
    expect((await cli(['jobs', '--config', config, '--status', 'lost'])).code).toBe(2);
    expect((await cli(['jobs', '--config', config, '--nope'])).code).toBe(2);
    expect((await cli(['job', '--config', config])).code).toBe(2);
    expect((await cli(['cancel', '--config', config, 'a', 'b'])).code).toBe(2);
  });
});

describe('faxbridge cancel of a fax Telnyx is sending', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon({
      production: true,
      yaml: 'senders:\n  - match: alice@example.com\n    from_number: "+15550001111"\n',
    });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('cancels it at Telnyx, then marks the job canceled with a failure receipt', async () => {
    // The simulator never sends a final event for this number: the fax stays "sending" until canceled.
    const to = '+15555550110';
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: `${to}@fax.localhost`,
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const jobId = result.response.split(' ')[3]!;
    const fax = await waitFor(() => env.simulator.faxes().find((f) => f.to === to && f.status === 'sending'));
    await waitFor(async () => (await env.daemon.store.getJob(jobId))?.status === 'placed');

    const { config } = env.daemon;
    const canceled = await cli(['cancel', '--config', path.join(env.dataDir, 'faxbridge.yaml'), jobId], {
      TELNYX_API_URL: config.telnyx.api_url,
      TELNYX_API_KEY: config.telnyx.api_key!,
      TELNYX_PUBLIC_KEY: config.telnyx.public_key!,
      TELNYX_CONNECTION_ID: config.telnyx.connection_id!,
      FAXBRIDGE_HTTP__PUBLIC_URL: config.http.public_url,
    });
    expect(canceled.stderr).toBe('');
    expect(canceled.code).toBe(0);

    expect(env.simulator.faxes().find((f) => f.id === fax.id)).toMatchObject({
      status: 'failed',
      failureReason: 'sender_canceled',
    });
    const job = await env.daemon.store.getJob(jobId);
    expect(job).toMatchObject({ status: 'canceled', failure_reason: 'sender_canceled' });
    // Telnyx's own fax.failed for the canceled fax arrives later and changes nothing.
    await waitFor(async () => {
      const outbox = await env.daemon.store.listOutboxOfJob(jobId);
      return outbox.some((row) => row.kind === 'receipt_failed' && row.status === 'sent');
    });
    expect((await env.daemon.store.getJob(jobId))?.status).toBe('canceled');
  });

  it('refuses to cancel a delivered fax (exit 1) and leaves it as it was', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551238888@fax.localhost',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    const jobId = result.response.split(' ')[3]!;
    await waitFor(async () => (await env.daemon.store.getJob(jobId))?.status === 'delivered', 15_000);
    const refused = await cli(['cancel', '--config', path.join(env.dataDir, 'faxbridge.yaml'), jobId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already delivered/);
  });
});

// eslint-disable-next-line no-control-regex -- what a terminal acts on (tab and newline are layout)
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

describe('faxbridge job and jobs print control characters from mail as visible escapes', () => {
  let env: TestDaemon;
  beforeAll(async () => {
    env = await startTestDaemon();
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('shows an ESC in the subject and a file name as \\x1b, never as the raw byte', async () => {
    const result = await sendMail(env.smtpPort, {
      from: 'mallory@example.com',
      to: '+15551230000@fax.localhost',
      subject: 'Invoice \x1b[31mRED\x1b[0m \x1b]52;c;cGF5bG9hZA==\x07 \u009b2J',
      attachments: [
        { filename: 'scan\x1b[2J\u202egpj.pdf', content: await makePdf(1), contentType: 'application/pdf' },
      ],
    });
    expect(result.code).toBe(250);
    const jobId = result.response.split(' ')[3]!;
    const config = path.join(env.dataDir, 'faxbridge.yaml');
    const stored = await env.daemon.store.getMessage((await env.daemon.store.getJob(jobId))!.message_row_id);
    // The controls really reached the store: what the operator's terminal must be protected from.
    expect(stored?.subject).toContain('\x1b[31m');

    const shown = await cli(['job', '--config', config, jobId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(RAW_CONTROL);
    expect(shown.stdout).toContain('Invoice \\x1b[31mRED\\x1b[0m \\x1b]52;c;cGF5bG9hZA==\\x07 \\x9b2J');
    expect(shown.stdout).toContain('scan\\x1b[2J\\u202egpj.pdf');

    const json = await cli(['job', '--config', config, '--json', jobId]);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    const parsed = JSON.parse(json.stdout) as { message: { subject: string } };
    expect(parsed.message.subject).toBe(stored!.subject);

    const listed = await cli(['jobs', '--config', config, '--json']);
    expect(listed.stdout).not.toMatch(RAW_CONTROL);
  });
});

describe('faxbridge check-config on a config that lets anybody fax, or that anybody may edit', () => {
  let dir: string;
  const production = (smtp: string) =>
    [
      'telnyx:',
      '  api_key: KEY',
      `  public_key: "${Buffer.alloc(32, 1).toString('base64')}"`,
      '  connection_id: "1"',
      'http:',
      '  public_url: https://fax.example.com',
      'senders:',
      '  - match: "*@example.com"',
      '    from_number: "+15550001111"',
      'admin: [it@example.com]',
      'smtp:',
      smtp,
    ].join('\n');
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-cli-open-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 1 on a public listener open to every address, 0 once acknowledged', async () => {
    const open = path.join(dir, 'open.yaml');
    writeFileSync(open, production('  listen: 0.0.0.0:25\n  allowed_clients: [0.0.0.0/0, ::/0]'), {
      mode: 0o600,
    });
    const refused = await cli(['check-config', open]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^smtp\.allowed_clients: 0\.0\.0\.0\/0 admits every address/m);
    const start = await cli(['start', '--config', open]);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/^smtp\.allowed_clients: /m);

    const acknowledged = path.join(dir, 'acknowledged.yaml');
    writeFileSync(
      acknowledged,
      production('  listen: 0.0.0.0:25\n  allowed_clients: [0.0.0.0/0]\n  allow_open_access: true'),
      { mode: 0o600 },
    );
    const ok = await cli(['check-config', acknowledged]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('warns on a world-writable config file but still exits 0', async () => {
    const file = path.join(dir, 'writable.yaml');
    writeFileSync(file, `data_dir: ${JSON.stringify(dir)}\n`);
    chmodSync(file, 0o666);
    const result = await cli(['check-config', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: \(file\): .*writable\.yaml is writable by every local user/m);
    chmodSync(file, 0o644);
    expect((await cli(['check-config', file])).stderr).toBe('');
  });
});
