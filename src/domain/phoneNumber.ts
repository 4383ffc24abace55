/**
 * Recipient numbers: the local part of a fax address is parsed into E.164, placed in a country, and checked
 * against the operator's allowed countries and blocked ranges (docs/behaviour.md, "Recipients"). Pure: the
 * SMTP layer turns a refusal into `550 5.1.1 <reason>`, so every reason is plain words naming the number.
 *
 * Numbering facts (which country owns a +1 area code, how a resident of a country writes a national number)
 * come from libphonenumber-js, which follows Google's numbering metadata; the policy stays here. Its `min`
 * metadata is enough: for calling codes that several countries share (+1, +7, +44, ...) it carries the same
 * per-country patterns as `max`, so the region of a number is the same; `max` only adds per-type digit
 * checks for other countries, which would refuse numbers in newly opened ranges before the library learns
 * them, and doubles the size.
 */
import type * as PhoneNumbers from 'libphonenumber-js/min';
import type { CountryCode, NumberingPlan } from 'libphonenumber-js/min';

/**
 * libphonenumber-js, once loadPhoneNumbers() has loaded it. An idle daemon never needs it, and its code and
 * metadata would hold ~2.5 MiB of resident memory from start (bench/README.md, "Idle memory"), so it is loaded
 * when a number is first read: every entry point that can read one (SMTP's MAIL, `faxbridge send`, the console's
 * send page) awaits loadPhoneNumbers() first, and the functions below stay synchronous. One module-level value,
 * like the module cache it stands for: set once, never changed.
 */
let library: typeof PhoneNumbers | undefined;
let loading: Promise<void> | undefined;

/** Loads libphonenumber-js; idempotent, and cheap once done. A failed load is tried again by the next call. */
export function loadPhoneNumbers(): Promise<void> {
  loading ??= import('libphonenumber-js/min').then(
    (loaded) => {
      library = loaded;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** True once loadPhoneNumbers() has finished: the functions below may be called. */
export function phoneNumbersLoaded(): boolean {
  return library !== undefined;
}

/** A programming error, not a refusal: an entry point reads numbers without having awaited loadPhoneNumbers(). */
function phoneNumbers(): typeof PhoneNumbers {
  if (library === undefined) {
    throw new Error('libphonenumber-js is not loaded: await loadPhoneNumbers() before reading fax numbers');
  }
  return library;
}

export type NumberVerdict =
  /** `country` is ISO 3166 alpha-2, or '??' for codes that belong to no country (+800, +881…). */
  | { ok: true; e164: string; country: string }
  /** Plain-words reason, used as the text of a `550 5.1.1` reply. */
  | { ok: false; reason: string };

export interface NumberPolicy {
  /** Country whose national numbers may be written without a country code. */
  defaultCountry: string;
  /** ISO alpha-2 codes; '*' allows every country. */
  allowedCountries: string[];
  /** E.164 prefixes such as '+1900' that are never dialled. */
  blockedPrefixes: string[];
}

/** E.164 allows at most 15 digits; fewer than 8 is no real subscriber number anywhere. */
const MIN_DIGITS = 8;
const MAX_DIGITS = 15;

/** Characters people write between digit groups; they carry no meaning. */
const SEPARATORS = /[ \-.()]/g;
/** Dial-string controls: DTMF (#, *), pauses (, ;) and parameters (;ext=, ;isub=). None can be faxed to. */
const DIAL_CONTROLS = /[#*,;=]/;

/**
 * +1 555 is in service nowhere in the North American Numbering Plan; examples, the documentation and the
 * built-in simulator's outcome numbers use it so that no real line is ever dialled. libphonenumber places it
 * in no country, which would make every example refused under the default `allowed_countries: [US]`, so it
 * counts as the US. It reaches no real line, so it cannot carry a toll-fraud call anywhere.
 */
const FICTIONAL_NANP = /^1555\d{7}$/;

/** Syntax and normalisation only: no policy. */
export function parseFaxNumber(localPart: string, defaultCountry: string): NumberVerdict {
  // First, so that an entry point that forgot loadPhoneNumbers() fails on any number, not only a well-formed one.
  const { getCountryCallingCode, isSupportedCountry } = phoneNumbers();
  const refuse = (why: string): NumberVerdict => ({
    ok: false,
    reason: `"${printable(localPart)}" is not a fax number: ${why}`,
  });
  // A local part with spaces must be quoted in SMTP (RFC 5321 §4.1.2); smtp-server may hand us the quotes.
  const unquoted = /^".*"$/s.test(localPart) ? localPart.slice(1, -1) : localPart;
  const compact = unquoted.replace(SEPARATORS, '');

  if (compact === '') return refuse('it is empty');
  if (/^sips?:/i.test(compact) || compact.includes('@')) return refuse('it looks like a SIP address');
  const innerPlus = compact.indexOf('+', 1);
  if (innerPlus !== -1) {
    const tag = compact.slice(innerPlus);
    return /[a-z]/i.test(tag)
      ? refuse(`it has a sub-address tag ("${printable(tag)}"); write the number alone`)
      : refuse('"+" may only come first');
  }
  const control = DIAL_CONTROLS.exec(compact);
  if (control) return refuse(`it contains "${control[0]}" (extensions, pauses and tones cannot be dialled)`);
  if (/[a-z]/i.test(compact)) return refuse('it contains letters');
  const stray = /[^0-9+]/.exec(compact);
  if (stray) return refuse(`it contains "${printable(stray[0])}"`);

  const country = defaultCountry.toUpperCase();
  let international: string;
  if (compact.startsWith('+')) {
    international = compact.slice(1);
  } else if (isSupportedCountry(country) && getCountryCallingCode(country) === '1') {
    // NANP national form: 10 digits, or 11 with the leading 1 people dial for long distance.
    if (compact.length === 10) international = `1${compact}`;
    else if (compact.length === 11 && compact.startsWith('1')) international = compact;
    else if (compact.length === 11) return refuse('an 11-digit number must start with 1');
    else return refuse(compact.length < 10 ? 'too few digits' : 'too many digits');
  } else if (compact.startsWith('00')) {
    // '00' is the international prefix in most non-NANP countries (ITU-T E.164 recommends it), accepted
    // whatever the default country is, as long as it is not NANP (where 00 means the operator).
    international = compact.slice(2);
  } else if (!isSupportedCountry(country)) {
    return refuse(`add the country code (national numbers of ${country} are not understood)`);
  } else {
    const national = nationalToInternational(compact, country);
    if (!national.ok) return refuse(national.why);
    international = national.digits;
  }

  if (international.length < MIN_DIGITS) return refuse('too few digits');
  if (international.length > MAX_DIGITS) return refuse('too many digits');
  if (international.startsWith('0')) return refuse('a country code cannot start with 0');
  if (international.startsWith('1')) {
    // +1 numbers are always area code + 7 digits; anything else cannot be dialled, so refuse it at RCPT
    // rather than after a failed Telnyx call.
    if (international.length !== 11) return refuse('a +1 number has 10 digits after the 1');
    const area = international.slice(1, 4);
    if (!/^[2-9]/.test(area)) return refuse(`area code ${area} does not exist (area codes start with 2-9)`);
  }
  const e164 = `+${international}`;
  return { ok: true, e164, country: countryOfE164(e164) };
}

/** Parse, then apply the operator's allowed countries and blocked ranges. */
export function checkFaxNumber(localPart: string, policy: NumberPolicy): NumberVerdict {
  const verdict = parseFaxNumber(localPart, policy.defaultCountry);
  if (!verdict.ok) return verdict;
  const { e164, country } = verdict;

  // A blocked range is named before the country: it is the more specific reason, and ranges such as
  // +1976 are in no country at all.
  for (const prefix of policy.blockedPrefixes) {
    const digits = prefix.replace(/\D/g, '');
    // An empty prefix would block everything; config validation forbids it, so ignore it rather than guess.
    if (digits !== '' && e164.startsWith(`+${digits}`)) {
      return { ok: false, reason: `${e164} is a blocked number range (+${digits})` };
    }
  }
  // A number whose country cannot be told ('??') is allowed only by "*": an area code or range the
  // numbering data does not know yet may belong to any country sharing the calling code.
  const allowed = policy.allowedCountries.map((c) => c.toUpperCase());
  if (!allowed.includes('*') && !allowed.includes(country)) {
    const where = country === '??' ? 'in no country' : `in ${country}`;
    const list = allowed.length > 0 ? allowed.join(', ') : 'none';
    return {
      ok: false,
      reason: `${e164} is ${where}, which this gateway does not fax to (allowed: ${list})`,
    };
  }
  return verdict;
}

/**
 * ISO 3166 alpha-2 of an E.164 number ('+' optional), or '??' when it belongs to no country (+800, +882...)
 * or its country cannot be told (an unassigned +1 area code, a range of +44 that no territory sharing the
 * code claims). Within +1 the area code decides: Canada and the Caribbean share the US country code.
 */
export function countryOfE164(e164: string): string {
  const { parsePhoneNumberFromString } = phoneNumbers();
  const digits = e164.replace(/^\+/, '');
  if (FICTIONAL_NANP.test(digits)) return 'US';
  return parsePhoneNumberFromString(`+${digits}`)?.country ?? '??';
}

/**
 * A national number as residents of `country` write it, to international digits (no '+'). The trunk prefix
 * ('0' in most of Europe, '8' in Russia, '06' in Hungary) is required where the country has one, so that a
 * number missing its area code is not silently read as another number.
 */
function nationalToInternational(
  compact: string,
  country: CountryCode,
): { ok: true; digits: string } | { ok: false; why: string } {
  const trunk = trunkPrefixOf(country);
  if (trunk !== undefined && !compact.startsWith(trunk)) {
    return { ok: false, why: `national numbers in ${country} start with ${trunk}; otherwise add "+"` };
  }
  const { parsePhoneNumberFromString, validatePhoneNumberLength } = phoneNumbers();
  const parsed = parsePhoneNumberFromString(compact, country);
  if (parsed?.isPossible()) return { ok: true, digits: parsed.number.slice(1) };
  const length = validatePhoneNumberLength(compact, country);
  if (length === 'TOO_SHORT') return { ok: false, why: 'too few digits' };
  if (length === 'TOO_LONG') return { ok: false, why: 'too many digits' };
  return { ok: false, why: `it is not a number of ${country}; check the digits or add the country code` };
}

/** The typings of libphonenumber-js omit `nationalPrefix()`, which its numbering plans have. */
type PlanWithPrefix = NumberingPlan & { nationalPrefix?: () => unknown };

function trunkPrefixOf(country: CountryCode): string | undefined {
  const metadata = new (phoneNumbers().Metadata)();
  metadata.selectNumberingPlan(country);
  const prefix = (metadata.numberingPlan as PlanWithPrefix | undefined)?.nationalPrefix?.();
  // Countries without one (Italy, Spain, Mexico) store a placeholder that is not a non-empty string.
  return typeof prefix === 'string' && prefix !== '' ? prefix : undefined;
}

/**
 * The number as given, safe to echo in an SMTP reply: printable ASCII only (an SMTPUTF8 local part could
 * hold anything) and short enough to keep the reply line well under the 512-octet limit (RFC 5321 §4.5.3.1.5).
 */
function printable(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 64 ? `${ascii.slice(0, 61)}...` : ascii;
}
