import { describe, expect, it } from 'vitest';

import { type ResendIdentity, resendKey } from '../../src/domain/resendKey.js';

const base: ResendIdentity = {
  sender: 'alice@example.com',
  messageId: '<m1@example.com>',
  documentHashes: ['aa', 'bb'],
  numbers: ['+15551230001', '+15551230002'],
};

describe('resendKey', () => {
  it.each<[string, Partial<ResendIdentity>]>([
    ['the sender in other case and spacing', { sender: ' Alice@Example.COM' }],
    ['the numbers in another order', { numbers: ['+15551230002', '+15551230001'] }],
    ['a number written twice', { numbers: ['+15551230001', '+15551230002', '+15551230001'] }],
  ])('is the same mail with %s', (_what, change) => {
    expect(resendKey({ ...base, ...change })).toBe(resendKey(base));
  });

  it.each<[string, Partial<ResendIdentity>]>([
    ['another sender', { sender: 'bob@example.com' }],
    ['another Message-ID', { messageId: '<m2@example.com>' }],
    ['another document', { documentHashes: ['aa', 'cc'] }],
    ['the documents in another order', { documentHashes: ['bb', 'aa'] }],
    ['one document fewer', { documentHashes: ['aa'] }],
    ['another number', { numbers: ['+15551230001', '+15551230003'] }],
    ['one number fewer', { numbers: ['+15551230001'] }],
  ])('is a new mail with %s', (_what, change) => {
    expect(resendKey({ ...base, ...change })).not.toBe(resendKey(base));
  });
});
