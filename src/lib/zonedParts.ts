/** The calendar fields of an instant in an IANA time zone, zero-padded, 24-hour clock, with the zone's short name. */
export interface ZonedParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  /** `EST`, `GMT+1`, `UTC`… */
  zone: string;
}

/**
 * One Intl formatter for every date shown in the zone the config names (receipts, header lines, the console), so
 * they all agree. Throws a RangeError for a zone ICU does not know; callers that must not fail catch it.
 */
export function zonedParts(date: Date, timeZone: string): ZonedParts {
  const parts = formatterFor(timeZone).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    year: part('year'),
    month: part('month'),
    day: part('day'),
    hour: part('hour'),
    minute: part('minute'),
    second: part('second'),
    zone: part('timeZoneName'),
  };
}

/**
 * Formatters by zone, made once: making one costs ~10 times a format, and every fax's header line and every
 * receipt formats a date (1 % of the daemon's main thread in bench/profileIngest.ts). Only the zone the config
 * names (`timezone`) is ever asked for, so this stays small.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}
