/**
 * The countries of the North American Numbering Plan: every country whose calling code is +1 (the US, Canada and
 * the Caribbean). A fixed list rather than libphonenumber-js's metadata, because the configuration needs only
 * this (the default paper size, loadConfig) and the library is loaded on first use of a number, not at start
 * (domain/phoneNumber.ts). test/unit/nanpCountries.test.ts checks the list against the library's own metadata,
 * so a library update that moves a country in or out of +1 fails there.
 */
const NANP_COUNTRIES: ReadonlySet<string> = new Set(
  'AG AI AS BB BM BS CA DM DO GD GU JM KN KY LC MP MS PR SX TC TT US VC VG VI'.split(' '),
);

/** True for ISO 3166 alpha-2 codes (upper case) of the North American Numbering Plan (+1). */
export function isNanpCountry(country: string): boolean {
  return NANP_COUNTRIES.has(country);
}
