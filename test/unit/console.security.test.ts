import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';
import { dayRange, html } from '../../src/console/html.js';
import { deriveConsoleKey, makeSessionCodec, SESSION_TTL_MS } from '../../src/console/sessionCookie.js';
import { LOCK_MS, makeSignInThrottle, WINDOW_MS } from '../../src/console/signInThrottle.js';

const NOW = 1_700_000_000_000;

describe('console pages', () => {
  it('escape every value put into HTML, but not HTML made by the template itself', () => {
    const name = '<img src=x onerror=alert(1)>"\'`&';
    // prettier-ignore
    const page = html`<p title="${name}">${name}</p>${html`<b>ok</b>`}`;
    expect(page.text).toBe(
      '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;</p><b>ok</b>',
    );
  });

  it('search a day in the configured zone, and refuse what is not a date', () => {
    expect(dayRange('2026-07-01', 'UTC')).toEqual({
      from: Date.UTC(2026, 6, 1),
      before: Date.UTC(2026, 6, 2),
    });
    // Berlin is two hours ahead in July: its day starts at 22:00 UTC the evening before.
    expect(dayRange('2026-07-01', 'Europe/Berlin')!.from).toBe(Date.UTC(2026, 5, 30, 22));
    expect(dayRange('01/07/2026', 'UTC')).toBeNull();
  });
});

describe('console sessions', () => {
  const codec = makeSessionCodec(deriveConsoleKey('a-url-secret-of-enough-length'));

  it('accept their own cookie until it expires or is signed out', () => {
    const { cookie, payload } = codec.issue('alice@example.com', NOW);
    expect(codec.verify(cookie, NOW + 1000)).toMatchObject({ email: 'alice@example.com' });
    expect(codec.verify(cookie, NOW + SESSION_TTL_MS + 1)).toBeNull();
    codec.revoke(payload, NOW + 500);
    expect(codec.verify(cookie, NOW + 1000)).toBeNull();
  });

  it('refuse a cookie whose content was changed or that another key signed', () => {
    const { cookie } = codec.issue('alice@example.com', NOW);
    const [data, signature] = cookie.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(data!, 'base64url').toString()),
        email: 'boss@example.com',
      }),
    ).toString('base64url');
    expect(codec.verify(`${forged}.${signature}`, NOW)).toBeNull();
    const other = makeSessionCodec(deriveConsoleKey('another-secret-entirely-here'));
    expect(other.verify(cookie, NOW)).toBeNull();
    expect(codec.verify('garbage', NOW)).toBeNull();
    expect(codec.verify(undefined, NOW)).toBeNull();
  });
});

describe('console sign-in throttle', () => {
  it('locks a key for 15 minutes after 5 failures within 15 minutes', () => {
    const throttle = makeSignInThrottle();
    const keys = ['account:bob@example.com', 'address:10.0.0.9'];
    for (let i = 0; i < 4; i++) throttle.recordFailure(keys, NOW + i);
    expect(throttle.lockedUntil(keys, NOW + 10)).toBeNull();
    throttle.recordFailure(keys, NOW + 10);
    expect(throttle.lockedUntil(['account:bob@example.com'], NOW + 11)).toBe(NOW + 10 + LOCK_MS);
    expect(throttle.lockedUntil(['address:10.0.0.9'], NOW + 11)).toBe(NOW + 10 + LOCK_MS);
    expect(throttle.lockedUntil(keys, NOW + 10 + LOCK_MS)).toBeNull();
  });

  it('forgets failures older than the window', () => {
    const throttle = makeSignInThrottle();
    for (let i = 0; i < 4; i++) throttle.recordFailure(['account:a'], NOW + i);
    throttle.recordFailure(['account:a'], NOW + WINDOW_MS + 10);
    expect(throttle.lockedUntil(['account:a'], NOW + WINDOW_MS + 11)).toBeNull();
  });
});

describe('console configuration', () => {
  const problemsOf = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-console-config-'));
    const file = path.join(dir, 'faxbridge.yaml');
    writeFileSync(file, yaml);
    try {
      loadConfig(file, env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.message}`);
      throw error;
    }
  };

  it('refuses a trusted header without the proxies it may come from', () => {
    expect(problemsOf('console:\n  trusted_header: X-Forwarded-Email\n')).toEqual([
      expect.stringMatching(/^console\.trusted_proxies: required with console\.trusted_header/),
    ]);
  });

  it('refuses a console switched on outside sandbox with no way to sign in', () => {
    const production =
      "senders:\n  - match: '*@example.com'\n    from_number: '+15550001111'\nhttp:\n  public_url: https://fax.example.com\nconsole:\n  enabled: true\n";
    const env = {
      TELNYX_API_KEY: 'k',
      TELNYX_PUBLIC_KEY: Buffer.alloc(32).toString('base64'),
      TELNYX_CONNECTION_ID: '1',
    };
    expect(problemsOf(production, env)).toContainEqual(
      expect.stringMatching(/^console\.enabled: needs console\.users/),
    );
  });
});
