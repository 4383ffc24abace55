import { describe, expect, it } from 'vitest';

import {
  type AuthSummary,
  decideSenderCheck,
  judgeAuthentication,
  mayUserSendAs,
} from '../../src/domain/senderTrust.js';

/* Who vouches for the header From: AUTH user, trusted relay, else aligned SPF or DKIM (DMARC). */

const summary = (overrides: Partial<AuthSummary>): AuthSummary => ({
  fromDomain: 'example.com',
  spf: { result: 'none', domain: 'example.com' },
  dkim: [],
  dmarc: { result: 'none', policy: null },
  ...overrides,
});

describe('decideSenderCheck', () => {
  it('trusts an authenticated user first, then a trusted relay, else asks for DMARC', () => {
    expect(decideSenderCheck({ user: 'alice@example.com', trustedRelay: true })).toEqual({
      kind: 'authenticated',
      user: 'alice@example.com',
    });
    expect(decideSenderCheck({ user: null, trustedRelay: true })).toEqual({ kind: 'trusted_relay' });
    expect(decideSenderCheck({ user: null, trustedRelay: false })).toEqual({ kind: 'verify_dmarc' });
  });
});

describe('mayUserSendAs', () => {
  it('defaults to the user name itself, case-insensitively', () => {
    const alice = { user: 'Alice@Example.com' };
    expect(mayUserSendAs(alice, 'alice@example.com')).toBe(true);
    expect(mayUserSendAs(alice, 'bob@example.com')).toBe(false);
  });
  it('follows send_as, with *@domain', () => {
    const scanner = { user: 'scanner', send_as: ['frontdesk@example.com', '*@branch.example.com'] };
    expect(mayUserSendAs(scanner, 'frontdesk@example.com')).toBe(true);
    expect(mayUserSendAs(scanner, 'anyone@branch.example.com')).toBe(true);
    expect(mayUserSendAs(scanner, 'scanner')).toBe(false);
    expect(mayUserSendAs(scanner, 'boss@example.com')).toBe(false);
  });
});

describe('judgeAuthentication', () => {
  it('passes on DMARC pass', () => {
    const verdict = judgeAuthentication(
      summary({
        dkim: [{ result: 'pass', domain: 'example.com', aligned: true }],
        dmarc: { result: 'pass', policy: 'reject' },
      }),
    );
    expect(verdict).toEqual({ ok: true, reason: 'example.com passed (aligned DKIM d=example.com)' });
  });

  it('refuses DMARC fail whatever the published policy, naming what failed', () => {
    for (const policy of ['reject', 'quarantine', 'none']) {
      const verdict = judgeAuthentication(
        summary({
          spf: { result: 'fail', domain: 'example.com' },
          dkim: [{ result: 'pass', domain: 'evil.test', aligned: false }],
          dmarc: { result: 'fail', policy },
        }),
      );
      expect(verdict).toEqual({
        ok: false,
        temporary: false,
        reason: `DMARC fail for example.com, policy ${policy} (SPF fail for example.com, DKIM pass for d=evil.test)`,
      });
    }
  });

  it('without a DMARC record, still needs an aligned SPF or DKIM pass', () => {
    expect(judgeAuthentication(summary({ spf: { result: 'pass', domain: 'mail.example.com' } })).ok).toBe(
      true,
    );
    expect(judgeAuthentication(summary({ spf: { result: 'pass', domain: 'other.test' } }))).toMatchObject({
      ok: false,
      temporary: false,
      reason: expect.stringContaining('example.com has no DMARC record'),
    });
    expect(judgeAuthentication(summary({ spf: { result: 'softfail', domain: 'example.com' } })).ok).toBe(
      false,
    );
  });

  it('DNS trouble is temporary (the sending server retries)', () => {
    expect(judgeAuthentication(summary({ dmarc: { result: 'temperror', policy: null } }))).toMatchObject({
      ok: false,
      temporary: true,
    });
    expect(
      judgeAuthentication(
        summary({
          spf: { result: 'temperror', domain: 'example.com' },
          dmarc: { result: 'fail', policy: 'reject' },
        }),
      ),
    ).toMatchObject({ ok: false, temporary: true });
    expect(judgeAuthentication(summary({ error: 'deadline' }))).toMatchObject({ ok: false, temporary: true });
  });
});
