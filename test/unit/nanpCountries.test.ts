import { getCountries, getCountryCallingCode } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';

import { isNanpCountry } from '../../src/domain/nanpCountries.js';

/*
 * src/domain/nanpCountries.ts keeps the +1 countries in a list of its own, so that reading the configuration does
 * not load libphonenumber-js; the library's metadata stays the authority on which countries those are.
 */
describe('isNanpCountry', () => {
  it('is true for exactly the countries whose calling code is +1 in libphonenumber-js', () => {
    for (const country of getCountries()) {
      expect([country, isNanpCountry(country)]).toEqual([country, getCountryCallingCode(country) === '1']);
    }
  });

  it('is false for what is no country code of the metadata, as the library’s isSupportedCountry was', () => {
    for (const code of ['us', 'XX', '', '1', 'USA']) expect(isNanpCountry(code)).toBe(false);
  });
});
