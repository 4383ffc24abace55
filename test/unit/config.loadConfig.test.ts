import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-config-'));
  const file = path.join(dir, 'faxbridge.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(file: string | null, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig(file, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs in sandbox mode on defaults alone', () => {
    const { config } = loadConfig(null, {});
    expect(config.sandbox).toBe(true);
    expect(config.smtp.listen).toEqual({ host: '127.0.0.1', port: 2525 });
    expect(config.http.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.smtp.domains).toEqual(['fax.localhost']);
    expect(config.smtp.max_message_size).toBe(70 * 1024 * 1024);
    expect(config.retry.delays.busy).toBe(180_000);
    expect(config.smtp.allowed_countries).toEqual(['US']);
    expect(config.database.url).toBe(`sqlite:${path.resolve('var/faxbridge.db')}`);
    expect(Object.isFrozen(config.smtp)).toBe(true);
  });

  it('closes idle SMTP sessions after a minute and caps sessions per address by default', () => {
    const { config } = loadConfig(null, {});
    expect(config.smtp.socket_timeout).toBe(60_000);
    expect(config.smtp.max_clients_per_address).toBe(10);
  });

  it('names every bad key, including unquoted numbers and ids', () => {
    const file = writeConfig(`
smtp:
  max_message_size: lots
  bogus: 1
telnyx:
  api_key: KEY
  connection_id: 1293384261075731499
senders:
  - match: alice@example.com
    from_number: +15550001111
retry:
  max_attempts: eleven
`);
    const problems = problemsOf(file);
    expect(problems.some((p) => p.startsWith('smtp.max_message_size:'))).toBe(true);
    expect(problems).toContain('smtp.bogus: unknown key');
    expect(problems.some((p) => p.startsWith('telnyx.connection_id:') && p.includes('quoted'))).toBe(true);
    expect(problems.some((p) => p.startsWith('senders.0.from_number:') && p.includes('quoted'))).toBe(true);
    expect(problems.some((p) => p.startsWith('retry.max_attempts:'))).toBe(true);
  });

  it('requires the production keys outside sandbox', () => {
    const problems = problemsOf(null, { TELNYX_API_KEY: 'KEY' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['senders', 'telnyx.public_key', 'telnyx.connection_id', 'http.public_url']),
    );
  });

  it('lets the environment win over the file and resolves paths against the file', () => {
    const file = writeConfig(`data_dir: ./state\nhttp:\n  public_url: https://a.example\n`);
    const { config } = loadConfig(file, {
      FAXBRIDGE_HTTP__PUBLIC_URL: 'https://b.example/',
      FAXBRIDGE_SMTP__DOMAINS: 'fax.one.example, fax.two.example',
      FAXBRIDGE_RECEIPTS__ON_ACCEPTED: 'true',
    });
    expect(config.http.public_url).toBe('https://b.example');
    expect(config.smtp.domains).toEqual(['fax.one.example', 'fax.two.example']);
    expect(config.receipts.on_accepted).toBe(true);
    expect(config.data_dir).toBe(path.join(path.dirname(file), 'state'));
  });

  it('hands 16 faxes to Telnyx at once by default; telnyx.concurrency changes it, from the environment too', () => {
    expect(loadConfig(null, {}).config.telnyx.concurrency).toBe(16);
    expect(loadConfig(null, { FAXBRIDGE_TELNYX__CONCURRENCY: '40' }).config.telnyx.concurrency).toBe(40);
    expect(problemsOf(writeConfig('telnyx:\n  concurrency: 0\n'))[0]).toMatch(/^telnyx\.concurrency: /);
    expect(problemsOf(null, { FAXBRIDGE_TELNYX__CONCURRENCY: 'many' })[0]).toMatch(/^telnyx\.concurrency: /);
  });

  it('refuses an unknown environment key by name', () => {
    expect(problemsOf(null, { FAXBRIDGE_SMTP__NOPE: 'x' })).toContain('smtp.nope: unknown key');
  });

  it('names a cover logo or template that is missing or of the wrong kind, resolved against the file', () => {
    const file = writeConfig('cover:\n  logo: logo.png\n  template: cover.pdf\n');
    expect(problemsOf(file)).toEqual([
      `cover.logo: ${path.join(path.dirname(file), 'logo.png')} does not exist`,
      `cover.template: ${path.join(path.dirname(file), 'cover.pdf')} does not exist`,
    ]);
    writeFileSync(path.join(path.dirname(file), 'logo.png'), 'GIF89a');
    writeFileSync(path.join(path.dirname(file), 'cover.pdf'), 'not a pdf');
    expect(problemsOf(file).map((problem) => problem.split(':')[0])).toEqual([
      'cover.logo',
      'cover.template',
    ]);
    writeFileSync(
      path.join(path.dirname(file), 'logo.png'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]),
    );
    writeFileSync(path.join(path.dirname(file), 'cover.pdf'), '%PDF-1.7\n');
    expect(problemsOf(file)).toEqual([]);
  });
});
