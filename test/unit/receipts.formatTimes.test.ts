import { describe, expect, it } from 'vitest';

import {
  formatDuration,
  formatFields,
  formatInZone,
  formatTime,
  formatUtc,
  pluralize,
} from '../../src/mail/formatTimes.js';

const WINTER = new Date('2026-01-15T23:30:00Z');
const SUMMER = new Date('2026-07-15T12:00:09Z');

describe('formatTime', () => {
  it.each([
    [WINTER, 'UTC', '2026-01-15 23:30:00 UTC'],
    [WINTER, 'Etc/UTC', '2026-01-15 23:30:00 UTC'],
    [WINTER, 'America/New_York', '2026-01-15 23:30:00 UTC (2026-01-15 18:30:00 EST, America/New_York)'],
    [SUMMER, 'America/New_York', '2026-07-15 12:00:09 UTC (2026-07-15 08:00:09 EDT, America/New_York)'],
    // The local date differs from the UTC date.
    [WINTER, 'Asia/Tokyo', '2026-01-15 23:30:00 UTC (2026-01-16 08:30:00 GMT+9, Asia/Tokyo)'],
    [WINTER, 'Not/AZone', '2026-01-15 23:30:00 UTC'],
  ])('%s in %s', (date, zone, expected) => {
    expect(formatTime(date, zone)).toBe(expected);
  });

  it('survives an invalid date', () => {
    expect(formatUtc(new Date(Number.NaN))).toBe('an unknown time');
    expect(formatInZone(new Date(Number.NaN), 'Europe/Berlin')).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [45, '45 s'],
    [60, '1 min'],
    [72, '1 min 12 s'],
    [3600, '1 h'],
    [3725, '1 h 2 min'],
    [44.6, '45 s'],
    [-3, '0 s'],
  ])('%s s → %s', (secs, expected) => {
    expect(formatDuration(secs)).toBe(expected);
  });
});

describe('pluralize and formatFields', () => {
  it('writes 1 page, 0 pages, 2 pages', () => {
    expect(pluralize(1, 'page')).toBe('1 page');
    expect(pluralize(0, 'page')).toBe('0 pages');
    expect(pluralize(2, 'page')).toBe('2 pages');
  });

  it('aligns values and skips missing rows', () => {
    expect(
      formatFields([
        ['To', '+1555'],
        ['Duration', null],
        ['Accepted', 'now'],
      ]),
    ).toBe('To:       +1555\nAccepted: now');
  });
});
