/**
 * Times, durations and counts as the emails show them. Pure: the zone data comes from Node's bundled ICU, and
 * nothing here reads the clock, so a receipt re-composed after a crash has the same text.
 */

import { type ZonedParts, zonedParts } from '../lib/zonedParts.js';
const UTC_NAMES = new Set(['utc', 'etc/utc', 'gmt', 'etc/gmt', 'z', 'zulu', 'universal', 'etc/universal']);

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `2026-11-27 14:03:05 UTC` */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'an unknown time';
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`
  );
}

/**
 * `2026-11-27 09:03:05 EST` in `timeZone`, or null when the zone is unknown to ICU (config validation should
 * have caught that; an email is still better with UTC only than not sent).
 */
export function formatInZone(date: Date, timeZone: string): string | null {
  if (Number.isNaN(date.getTime())) return null;
  let p: ZonedParts;
  try {
    p = zonedParts(date, timeZone);
  } catch {
    return null;
  }
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.zone}`;
}

/**
 * UTC always, plus the configured zone when it is not UTC (docs/behaviour.md §2 `timezone`):
 * `2026-11-27 14:03:05 UTC (2026-11-27 09:03:05 EST, America/New_York)`.
 */
export function formatTime(date: Date, timeZone: string): string {
  const utc = formatUtc(date);
  if (UTC_NAMES.has(timeZone.trim().toLowerCase())) return utc;
  const local = formatInZone(date, timeZone);
  return local ? `${utc} (${local}, ${timeZone})` : utc;
}

/** `45 s`, `1 min 12 s`, `1 h 2 min`; whole seconds, because fax calls are reported in seconds. */
export function formatDuration(totalSecs: number): string {
  const secs = Math.max(0, Math.round(totalSecs));
  const hours = Math.floor(secs / 3600);
  const minutes = Math.floor((secs % 3600) / 60);
  const seconds = secs % 60;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

/** `1 page`, `2 pages`, `0 pages` (docs/behaviour.md §6: never `1 pages`). */
export function pluralize(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** `Label:    value` lines with the values aligned, skipping rows without a value. */
export function formatFields(rows: Array<[string, string | null | undefined]>): string {
  const present = rows.filter((row): row is [string, string] => row[1] !== null && row[1] !== undefined);
  const width = Math.max(0, ...present.map(([label]) => label.length)) + 2;
  return present.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`).join('\n');
}
