import { beforeAll, describe, expect, it } from 'vitest';

import type { NumberPolicy, NumberVerdict } from '../../src/domain/phoneNumber.js';
import {
  checkFaxNumber,
  countryOfE164,
  loadPhoneNumbers,
  parseFaxNumber,
} from '../../src/domain/phoneNumber.js';

// As every entry point does before it reads a number (src/domain/phoneNumber.ts).
beforeAll(() => loadPhoneNumbers());

const US_ONLY: NumberPolicy = {
  defaultCountry: 'US',
  allowedCountries: ['US'],
  blockedPrefixes: ['+1900', '+1976'],
};

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
    ['+49 30 1234 5678 901', 'US', '+493012345678901', 'DE'],
    ['+44 20 7946 0018', 'US', '+442079460018', 'GB'],
    ['030 1234567', 'DE', '+49301234567', 'DE'],
    ['030 1234567', 'de', '+49301234567', 'DE'],
    ['020 7946 0018', 'GB', '+442079460018', 'GB'],
    ['0044 20 7946 0018', 'DE', '+442079460018', 'GB'],
    ['06 1234 5678', 'IT', '+390612345678', 'IT'],
    ['912 345 678', 'ES', '+34912345678', 'ES'],
    ['8 495 123-45-67', 'RU', '+74951234567', 'RU'],
    ['06 1 234 5678', 'HU', '+3612345678', 'HU'],
    ['+7 727 123 4567', 'US', '+77271234567', 'KZ'],
    ['+44 1534 123456', 'US', '+441534123456', 'JE'],
    ['+882 1234 5678', 'US', '+88212345678', '??'],
    // Brazil's national form: trunk 0, optional two-digit carrier code, area code, number.
    ['0 21 11 2345-6789', 'BR', '+551123456789', 'BR'],
    ['(011) 2345-6789', 'BR', '+551123456789', 'BR'],
  ])('%s (default %s) → %s in %s', (given, defaultCountry, e164, country) => {
    expect(parseFaxNumber(given, defaultCountry)).toEqual({ ok: true, e164, country });
  });
});

describe('parseFaxNumber refuses', () => {
  it.each([
    // [local part, default country, the problem named in the reason]
    ['', 'US', 'it is empty'],
    ['555-12', 'US', 'too few digits'],
    ['+1234567', 'US', 'too few digits'],
    ['+1234567890123456', 'US', 'too many digits'],
    ['555123456789', 'US', 'too many digits'],
    ['25551234567', 'US', 'an 11-digit number must start with 1'],
    ['1-155-123-4567', 'US', 'area code 155 does not exist'],
    ['055-123-4567', 'US', 'area code 055 does not exist'],
    ['+1 555 123 456', 'US', 'a +1 number has 10 digits after the 1'],
    ['+0123456789', 'US', 'a country code cannot start with 0'],
    ['1-800-FLOWERS', 'US', 'it contains letters'],
    ['fax', 'US', 'it contains letters'],
    ['sip:+15551234567', 'US', 'it looks like a SIP address'],
    ['SIPS:bob', 'US', 'it looks like a SIP address'],
    ['5551234567+ext', 'US', 'it has a sub-address tag ("+ext")'],
    ['user+tag', 'US', 'it has a sub-address tag ("+tag")'],
    ['+1555+1234567', 'US', '"+" may only come first'],
    ['5551234567#', 'US', 'it contains "#"'],
    ['*675551234567', 'US', 'it contains "*"'],
    ['5551234567,,12', 'US', 'it contains ","'],
    ['5551234567;ext=12', 'US', 'it contains ";"'],
    ['5551234567=1', 'US', 'it contains "="'],
    ['555_123_4567', 'US', 'it contains "_"'],
    ['301234567', 'DE', 'national numbers in DE start with 0'],
    ['11 2345 6789', 'BR', 'national numbers in BR start with 0'],
    ['030 1234567', 'AQ', 'add the country code'],
    ['030', 'DE', 'too few digits'],
  ])('%j (default %s): %s', (given, defaultCountry, problem) => {
    const verdict = parseFaxNumber(given, defaultCountry);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toContain(`"${given}" is not a fax number: `);
    expect(verdict.reason).toContain(problem);
  });

  it('names the number exactly as given', () => {
    expect(parseFaxNumber('555-12', 'US')).toEqual({
      ok: false,
      reason: '"555-12" is not a fax number: too few digits',
    });
  });

  it('echoes only printable ASCII, and not too much of it', () => {
    const verdict = parseFaxNumber(`fax\u00e9${'9'.repeat(200)}`, 'US');
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toMatch(/^"fax\?9+\.\.\." is not a fax number: /);
    expect(verdict.reason.length).toBeLessThan(120);
  });
});

describe('checkFaxNumber', () => {
  it.each<[string, NumberPolicy, NumberVerdict]>([
    // [local part, policy, expected verdict]
    ['555-123-4567', US_ONLY, { ok: true, e164: '+15551234567', country: 'US' }],
    [
      '+1 876 555 0100',
      US_ONLY,
      { ok: false, reason: '+18765550100 is in JM, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '+4930123456',
      US_ONLY,
      { ok: false, reason: '+4930123456 is in DE, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '+4930123456',
      { ...US_ONLY, allowedCountries: ['US', 'DE'] },
      { ok: true, e164: '+4930123456', country: 'DE' },
    ],
    [
      '+1 787 555 0100',
      { ...US_ONLY, allowedCountries: ['US', 'PR'] },
      { ok: true, e164: '+17875550100', country: 'PR' },
    ],
    ['1-900-555-0100', US_ONLY, { ok: false, reason: '+19005550100 is a blocked number range (+1900)' }],
    ['+1 976 555 0100', US_ONLY, { ok: false, reason: '+19765550100 is a blocked number range (+1976)' }],
    [
      '+1 900 555 0100',
      { ...US_ONLY, allowedCountries: ['*'] },
      { ok: false, reason: '+19005550100 is a blocked number range (+1900)' },
    ],
    [
      '+81 3 1234 5678',
      { ...US_ONLY, allowedCountries: ['*'] },
      { ok: true, e164: '+81312345678', country: 'JP' },
    ],
    [
      '+882 1234 5678',
      { ...US_ONLY, allowedCountries: ['*'] },
      { ok: true, e164: '+88212345678', country: '??' },
    ],
    [
      '+882 1234 5678',
      US_ONLY,
      {
        ok: false,
        reason: '+88212345678 is in no country, which this gateway does not fax to (allowed: US)',
      },
    ],
    [
      '5551234567',
      { ...US_ONLY, allowedCountries: [] },
      { ok: false, reason: '+15551234567 is in US, which this gateway does not fax to (allowed: none)' },
    ],
    [
      '030 1234567',
      { defaultCountry: 'DE', allowedCountries: ['DE'], blockedPrefixes: ['+49900'] },
      { ok: true, e164: '+49301234567', country: 'DE' },
    ],
    [
      '0900 1234567',
      { defaultCountry: 'DE', allowedCountries: ['DE'], blockedPrefixes: ['+49900'] },
      { ok: false, reason: '+499001234567 is a blocked number range (+49900)' },
    ],
    [
      '1-155-123-4567',
      US_ONLY,
      {
        ok: false,
        reason:
          '"1-155-123-4567" is not a fax number: area code 155 does not exist (area codes start with 2-9)',
      },
    ],
    [
      '+1 809 555 0100',
      US_ONLY,
      { ok: false, reason: '+18095550100 is in DO, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '+1 684 555 0100',
      US_ONLY,
      { ok: false, reason: '+16845550100 is in AS, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '+1 670 555 0100',
      US_ONLY,
      { ok: false, reason: '+16705550100 is in MP, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '+1 273 555 0100',
      US_ONLY,
      { ok: false, reason: '+12735550100 is in CA, which this gateway does not fax to (allowed: US)' },
    ],
    [
      '416 555 0100',
      { ...US_ONLY, allowedCountries: ['CA'] },
      { ok: true, e164: '+14165550100', country: 'CA' },
    ],
    // Area codes opened in the 2020s are US, as an operator of a US-only gateway expects.
    ['+1 472 555 0100', US_ONLY, { ok: true, e164: '+14725550100', country: 'US' }],
    ['826-555-0100', US_ONLY, { ok: true, e164: '+18265550100', country: 'US' }],
    // An area code in service nowhere could be opened for any NANP country: only "*" allows it.
    [
      '+1 299 555 0100',
      US_ONLY,
      {
        ok: false,
        reason: '+12995550100 is in no country, which this gateway does not fax to (allowed: US)',
      },
    ],
    [
      '+1 299 555 0100',
      { ...US_ONLY, allowedCountries: ['*'] },
      { ok: true, e164: '+12995550100', country: '??' },
    ],
  ])('%s', (given, policy, expected) => {
    expect(checkFaxNumber(given, policy)).toEqual(expected);
  });
});

describe('countryOfE164', () => {
  it.each([
    ['+15551234567', 'US'],
    ['15551234567', 'US'],
    ['+18005550100', 'US'],
    ['+16045550100', 'CA'],
    ['+18195550100', 'CA'],
    ['+16585550100', 'JM'],
    ['+18095550100', 'DO'],
    ['+13405550100', 'VI'],
    ['+16715550100', 'GU'],
    ['+17215550100', 'SX'],
    ['+33123456789', 'FR'],
    ['+35312345678', 'IE'],
    ['+35818123456', 'AX'],
    ['+35891234567', 'FI'],
    ['+74951234567', 'RU'],
    ['+390669812345', 'VA'],
    ['+390612345678', 'IT'],
    ['+85212345678', 'HK'],
    ['+97150123456', 'AE'],
    ['+80012345678', '??'],
    ['+2812345678', '??'],
    ['+18765550100', 'JM'],
    ['+16845550100', 'AS'],
    ['+16705550100', 'MP'],
    ['+12735550100', 'CA'],
    ['+14725550100', 'US'],
    ['+12995550100', '??'],
    ['+15555550101', 'US'],
  ])('%s → %s', (e164, country) => {
    expect(countryOfE164(e164)).toBe(country);
  });

  it('places every Canadian area code in service in CA', () => {
    const canada = (
      '204 226 236 249 250 257 263 273 289 306 343 354 365 367 368 382 403 416 418 428 431 437 438 450 ' +
      '468 474 506 514 519 548 579 581 584 587 600 604 613 622 639 647 672 683 705 709 742 753 778 780 ' +
      '782 807 819 825 867 873 879 902 905 942'
    ).split(' ');
    for (const area of canada) expect(countryOfE164(`+1${area}5550100`), area).toBe('CA');
  });

  it('places every Caribbean and Pacific +1 area code outside the US', () => {
    const elsewhere: Record<string, string> = {
      '242': 'BS',
      '246': 'BB',
      '264': 'AI',
      '268': 'AG',
      '284': 'VG',
      '340': 'VI',
      '345': 'KY',
      '441': 'BM',
      '473': 'GD',
      '649': 'TC',
      '658': 'JM',
      '664': 'MS',
      '670': 'MP',
      '671': 'GU',
      '684': 'AS',
      '721': 'SX',
      '758': 'LC',
      '767': 'DM',
      '784': 'VC',
      '787': 'PR',
      '809': 'DO',
      '829': 'DO',
      '849': 'DO',
      '868': 'TT',
      '869': 'KN',
      '876': 'JM',
      '939': 'PR',
    };
    for (const [area, country] of Object.entries(elsewhere)) {
      expect(countryOfE164(`+1${area}5550100`), area).toBe(country);
    }
  });
});
