import { describe, expect, it } from 'vitest';

import { decodeClientState, encodeClientState } from '../../src/telnyx/client.js';

describe('encodeClientState', () => {
  it('is base64 of `<jobId>:<attempt>`', () => {
    expect(encodeClientState('job', 1)).toBe(Buffer.from('job:1').toString('base64'));
    expect(Buffer.from(encodeClientState('01J9Z:abc', 12), 'base64').toString()).toBe('01J9Z:abc:12');
  });

  it.each([
    ['', 1],
    ['job', -1],
    ['job', 1.5],
    ['job', Number.NaN],
  ])('refuses jobId %j attempt %j', (jobId, attempt) => {
    expect(() => encodeClientState(jobId, attempt)).toThrow(RangeError);
  });
});

describe('decodeClientState', () => {
  it.each([
    ['job', 0],
    ['job', 1],
    ['3f1c8a52-6a3e-4c1e-9a55-0d3cf1b5a2a1', 7],
    ['id:with:colons', 3],
    ['ünïcødé', 2],
  ])('round-trips %j attempt %j', (jobId, attempt) => {
    expect(decodeClientState(encodeClientState(jobId, attempt))).toEqual({ jobId, attempt });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
    ['not base64', 'job:1'],
    ['unpadded base64', Buffer.from('job:1').toString('base64').replace(/=+$/, '')],
    ['url-safe alphabet', Buffer.from('x>>?:1').toString('base64url')],
    ['no colon', Buffer.from('job1').toString('base64')],
    ['empty job id', Buffer.from(':1').toString('base64')],
    ['attempt not a number', Buffer.from('job:x').toString('base64')],
    ['attempt with leading zero', Buffer.from('job:01').toString('base64')],
    ['negative attempt', Buffer.from('job:-1').toString('base64')],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x3a, 0x31]).toString('base64')],
    ['another app state', 'aGF2ZSBhIG5pY2UgZGF5ID1d'],
  ])('returns null for %s', (_label, value) => {
    expect(decodeClientState(value)).toBeNull();
  });
});
