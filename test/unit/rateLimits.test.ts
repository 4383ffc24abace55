import { describe, expect, it } from 'vitest';

import { makeConnectionRateLimiter } from '../../src/smtp/rateLimits.js';

describe('makeConnectionRateLimiter', () => {
  it('allows N connections per address in a sliding minute, then refuses until the window moves', () => {
    let now = 1_000_000;
    const limiter = makeConnectionRateLimiter(3, { now: () => now });
    expect([1, 2, 3].map(() => limiter.allow('192.0.2.1'))).toEqual([true, true, true]);
    expect(limiter.allow('192.0.2.1')).toBe(false);
    // Another address has its own window.
    expect(limiter.allow('192.0.2.2')).toBe(true);
    now += 30_000;
    expect(limiter.allow('192.0.2.1')).toBe(false);
    now += 61_000;
    expect(limiter.allow('192.0.2.1')).toBe(true);
  });

  it('0 turns it off', () => {
    const limiter = makeConnectionRateLimiter(0, { now: () => 0 });
    for (let i = 0; i < 1000; i++) expect(limiter.allow('192.0.2.1')).toBe(true);
  });

  it('keeps bounded state under a flood of addresses', () => {
    let now = 0;
    const limiter = makeConnectionRateLimiter(5, { now: () => now });
    let mostTracked = 0;
    for (let i = 0; i < 30_000; i++) {
      now += 10;
      limiter.allow(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      mostTracked = Math.max(mostTracked, limiter.trackedAddresses());
    }
    // 30,000 addresses, 6,000 of them within any one minute: expired ones are dropped once 10,000 are
    // held, so the state never grows with the flood.
    expect(mostTracked).toBeLessThanOrEqual(10_001);
    expect(limiter.trackedAddresses()).toBeLessThanOrEqual(10_001);
    // Still answers correctly for an address seen long ago (its window expired and was pruned).
    expect(limiter.allow('10.0.0.0')).toBe(true);
  });
});
