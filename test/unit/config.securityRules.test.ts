import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';

/* Cross-key rules of the SMTP security settings: check-config refuses listeners that cannot work safely. */

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'fb-secrules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HASH = 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=';

function problems(yaml: string): string[] {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  try {
    loadConfig(file, {});
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => `${problem.key}: ${problem.message}`);
  }
}

describe('SMTP security cross-key rules', () => {
  it('accepts TLS with AUTH users, and defaults limits by mode', () => {
    const file = path.join(dir, 'ok.yaml');
    writeFileSync(
      file,
      `smtp:\n  tls: { cert: ${TLS}first.cert.pem, key: ${TLS}first.key.pem }\n  mode: submission\n  auth: [{ user: alice@example.com, password_hash: "${HASH}" }]\n`,
    );
    const { config } = loadConfig(file, {});
    expect(config.smtp.mode).toBe('submission');
    expect(config.limits).toEqual({ faxes_per_hour: 0, pages_per_day: 0 });
    // Sandbox authenticates no sender: every client is a trusted relay unless the operator lists some.
    expect(config.smtp.trusted_relays).toEqual(['0.0.0.0/0', '::/0']);
  });

  it('names each problem', () => {
    expect(problems('smtp:\n  mode: submission\n')).toContain(
      'smtp.auth: submission mode needs at least one user (smtp.auth: [{user, password_hash}])',
    );
    expect(problems(`smtp:\n  auth: [{ user: a@example.com, password_hash: "${HASH}" }]\n`)).toEqual([
      'smtp.tls: SMTP AUTH needs TLS (smtp.tls) so passwords are not sent in clear; or set smtp.allow_insecure_auth',
    ]);
    expect(
      problems(
        'smtp:\n  allow_insecure_auth: true\n  auth: [{ user: a@example.com, password_hash: nope }]\n',
      ),
    ).toEqual([
      'smtp.auth.0.password_hash: expected scrypt$N$r$p$salt$hash as printed by `faxbridge hash-password`',
    ]);
    expect(
      problems(`smtp:\n  allow_insecure_auth: true\n  auth: [{ user: scanner, password_hash: "${HASH}" }]\n`),
    ).toEqual(['smtp.auth.0.send_as: user scanner is not an address: list the addresses it sends as']);
    expect(problems('smtp:\n  require_tls: true\n  tls_listen: 127.0.0.1:4650\n')).toEqual([
      'smtp.tls_listen: needs smtp.tls (cert and key)',
      'smtp.require_tls: needs smtp.tls (cert and key)',
    ]);
    expect(problems(`smtp:\n  tls: { cert: ${TLS}first.cert.pem, key: ${TLS}second.key.pem }\n`)[0]).toMatch(
      /^smtp\.tls: cannot use the certificate and key: /,
    );
    expect(problems('smtp:\n  trusted_relays: [10.0.0.0/33]\n')[0]).toMatch(/^smtp\.trusted_relays\.0: /);
  });

  it('outside sandbox: limits of 60 faxes an hour and 1000 pages a day, only loopback trusted', () => {
    const file = path.join(dir, 'prod.yaml');
    writeFileSync(
      file,
      `senders: [{ match: "*@example.com", from_number: "+15550001111" }]\nhttp: { public_url: https://fax.example.com }\ntelnyx: { api_key: k, public_key: "${Buffer.alloc(32).toString('base64')}", connection_id: "1" }\n`,
    );
    const { config } = loadConfig(file, {});
    expect(config.limits).toEqual({ faxes_per_hour: 60, pages_per_day: 1000 });
    expect(config.smtp.trusted_relays).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

describe('a config that lets anybody fax', () => {
  const PRODUCTION = [
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
  ].join('\n');
  const open = (smtp: string, base = PRODUCTION) => problems(`${base}\nsmtp:\n${smtp}\n`);

  it('is refused outside sandbox when a reachable relay listener admits or trusts every address', () => {
    expect(open('  listen: 0.0.0.0:25\n  allowed_clients: [0.0.0.0/0]')).toEqual([
      expect.stringMatching(
        /^smtp\.allowed_clients: 0\.0\.0\.0\/0 admits every address and 0\.0\.0\.0:25 .*allow_open_access/,
      ),
    ]);
    expect(open('  listen: "[::]:25"\n  trusted_relays: [10.0.0.0/8, ::/0]')).toEqual([
      expect.stringMatching(/^smtp\.trusted_relays: ::\/0 trusts every address/),
    ]);
    expect(
      open('  listen: 192.0.2.10:25\n  allowed_clients: [::/0]\n  trusted_relays: [0.0.0.0/0]'),
    ).toHaveLength(2);
    // The implicit-TLS listener counts as well.
    expect(
      open(
        `  listen: 127.0.0.1:25\n  tls_listen: 0.0.0.0:465\n  tls: { cert: ${TLS}first.cert.pem, key: ${TLS}first.key.pem }\n  allowed_clients: [0.0.0.0/0]`,
      ),
    ).toHaveLength(1);
  });

  it('is accepted when acknowledged, on loopback, in submission mode, or in sandbox', () => {
    expect(open('  listen: 0.0.0.0:25\n  allowed_clients: [0.0.0.0/0]\n  allow_open_access: true')).toEqual(
      [],
    );
    expect(open('  listen: 127.0.0.1:25\n  allowed_clients: [0.0.0.0/0]\n  trusted_relays: [::/0]')).toEqual(
      [],
    );
    expect(open('  listen: 0.0.0.0:25\n  allowed_clients: [10.0.0.0/8, 192.168.0.0/16]')).toEqual([]);
    expect(
      open(
        `  listen: 0.0.0.0:587\n  allowed_clients: [0.0.0.0/0, ::/0]\n  mode: submission\n  allow_insecure_auth: true\n  auth: [{ user: a@example.com, password_hash: "${HASH}" }]`,
      ),
    ).toEqual([]);
    expect(open('  listen: 0.0.0.0:2525\n  allowed_clients: [0.0.0.0/0]', '')).toEqual([]);
  });
});
