import { describe, expect, it } from 'vitest';

import { parseRetryAfter } from '../../src/telnyx/client.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['Retry-After seconds', { 'retry-after': '7' }, 7000],
    ['Retry-After fractional seconds', { 'retry-after': '1.5' }, 1500],
    ['Retry-After zero', { 'retry-after': '0' }, 0],
    ['Retry-After HTTP date', { 'retry-after': 'Fri, 27 Nov 2026 12:00:30 GMT' }, 30_000],
    ['Retry-After date in the past', { 'retry-after': 'Fri, 27 Nov 2026 11:00:00 GMT' }, 0],
    ['x-ratelimit-reset seconds', { 'x-ratelimit-reset': '3' }, 3000],
    ['x-ratelimit-reset as epoch seconds', { 'x-ratelimit-reset': String(NOW / 1000 + 12) }, 12_000],
    ['Retry-After wins over x-ratelimit-reset', { 'retry-after': '2', 'x-ratelimit-reset': '60' }, 2000],
    ['unreadable Retry-After falls back', { 'retry-after': 'soon', 'x-ratelimit-reset': '4' }, 4000],
    ['repeated header: first value', { 'retry-after': ['5', '9'] }, 5000],
    ['mixed-case name', { 'Retry-After': '6' }, 6000],
    ['nothing', {}, null],
    ['negative', { 'retry-after': '-3' }, null],
    ['garbage', { 'retry-after': 'soon', 'x-ratelimit-reset': 'later' }, null],
  ])('%s', (_label, headers, expected) => {
    expect(parseRetryAfter(headers, NOW)).toBe(expected);
  });
});
