import { describe, expect, it } from 'vitest';

import { makeUrlSigner } from '../../src/lib/urlSigner.js';

describe('makeUrlSigner', () => {
  const signer = makeUrlSigner('a-secret-of-enough-length');
  const now = 1_800_000_000_000;
  const query = (url: string) => Object.fromEntries(new URL(url, 'http://x').searchParams);

  it('accepts its own link until it expires, then says expired', () => {
    const url = signer.sign('/media/doc_1.pdf', now + 60_000);
    expect(signer.verify('/media/doc_1.pdf', query(url), now)).toBe('ok');
    expect(signer.verify('/media/doc_1.pdf', query(url), now + 61_000)).toBe('expired');
  });

  it('refuses a link bent to another document, another expiry or another key', () => {
    const url = signer.sign('/media/doc_1.pdf', now + 60_000);
    expect(signer.verify('/media/doc_2.pdf', query(url), now)).toBe('invalid');
    expect(
      signer.verify('/media/doc_1.pdf', { ...query(url), expires: String(now / 1000 + 9999) }, now),
    ).toBe('invalid');
    expect(makeUrlSigner('another-secret-entirely').verify('/media/doc_1.pdf', query(url), now)).toBe(
      'invalid',
    );
    expect(signer.verify('/media/doc_1.pdf', {}, now)).toBe('invalid');
  });
});
