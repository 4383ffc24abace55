import { describe, expect, it } from 'vitest';

import {
  checkFaxNumber,
  countryOfE164,
  loadPhoneNumbers,
  parseFaxNumber,
  phoneNumbersLoaded,
} from '../../src/domain/phoneNumber.js';

/*
 * libphonenumber-js is loaded on first use (src/domain/phoneNumber.ts). This file is the only one that sees the
 * module before loadPhoneNumbers() (vitest runs every test file in a module graph of its own), so the order of
 * its tests matters: the first runs before anything was loaded.
 */
describe('loadPhoneNumbers', () => {
  it('before it, reading a number is a programming error, however the number looks', () => {
    expect(phoneNumbersLoaded()).toBe(false);
    const notLoaded = /libphonenumber-js is not loaded: await loadPhoneNumbers\(\)/;
    expect(() => parseFaxNumber('+15551234567', 'US')).toThrow(notLoaded);
    // Refused by syntax alone, yet it throws: a missed entry point fails on any number.
    expect(() => parseFaxNumber('', 'US')).toThrow(notLoaded);
    expect(() =>
      checkFaxNumber('fax', { defaultCountry: 'US', allowedCountries: ['*'], blockedPrefixes: [] }),
    ).toThrow(notLoaded);
    expect(() => countryOfE164('+15551234567')).toThrow(notLoaded);
  });

  it('loads the library once, however often and however concurrently it is awaited', async () => {
    const first = loadPhoneNumbers();
    expect(loadPhoneNumbers()).toBe(first);
    await Promise.all([first, loadPhoneNumbers()]);
    expect(phoneNumbersLoaded()).toBe(true);
    expect(loadPhoneNumbers()).toBe(first);
    expect(parseFaxNumber('030 1234567', 'DE')).toEqual({ ok: true, e164: '+49301234567', country: 'DE' });
    expect(countryOfE164('+14165550100')).toBe('CA');
  });
});
