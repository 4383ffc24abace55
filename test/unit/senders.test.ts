import { describe, expect, it } from 'vitest';

import { findSender, SANDBOX_FROM_NUMBER } from '../../src/domain/senders.js';
import { makeAddressMatcher } from '../../src/lib/cidr.js';

const rules = [
  { match: '*@example.com', from_number: '+15550002222' },
  { match: 'alice@example.com', from_number: '+15550001111' },
];

describe('findSender', () => {
  it('prefers an exact address over *@domain, case-insensitively', () => {
    expect(findSender(rules, 'Alice@Example.com', false)?.fromNumber).toBe('+15550001111');
    expect(findSender(rules, 'bob@example.com', false)?.fromNumber).toBe('+15550002222');
  });

  it('refuses strangers outside sandbox and lets them send from the sandbox number inside it', () => {
    expect(findSender(rules, 'mallory@evil.example', false)).toBeNull();
    expect(findSender(rules, 'bob@example.com.evil.example', false)).toBeNull();
    expect(findSender(rules, 'mallory@evil.example', true)?.fromNumber).toBe(SANDBOX_FROM_NUMBER);
  });
});

describe('makeAddressMatcher', () => {
  const allowed = makeAddressMatcher(['127.0.0.0/8', '::1/128', '10.0.0.0/8']);
  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    expect(allowed('127.0.0.1')).toBe(true);
    expect(allowed('::ffff:10.1.2.3')).toBe(true);
    expect(allowed('::1')).toBe(true);
    expect(allowed('192.168.1.1')).toBe(false);
    expect(allowed('not-an-ip')).toBe(false);
  });
});
