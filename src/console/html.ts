/*
 * HTML built from template literals: every interpolated value is escaped unless it is already Html (made by
 * `html` itself), so a fax number, a file name or a Telnyx error can never become markup.
 */

import { zonedParts } from '../lib/zonedParts.js';

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join('');
  if (part === null || part === undefined || part === false) return '';
  return escapeHtml(String(part as string | number));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new Html(out);
}

/** `?a=1&b=2` from the given pairs, leaving out empty values. */
export function query(pairs: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(pairs)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** `2026-12-06 14:03` in the configured zone, or an em dash for none. */
export function formatTime(ms: number | null, timeZone: string): string {
  if (ms === null) return '—';
  const p = zonedParts(new Date(ms), timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** Epoch ms of the start of the day `date` (YYYY-MM-DD) in `timeZone`, and of the next day; null when invalid. */
export function dayRange(date: string, timeZone: string): { from: number; before: number } | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  const utcMidnight = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(utcMidnight)) return null;
  const from = utcMidnight - zoneOffset(utcMidnight, timeZone);
  const nextUtc = utcMidnight + 24 * 3600 * 1000;
  return { from, before: nextUtc - zoneOffset(nextUtc, timeZone) };
}

/** Today's date (YYYY-MM-DD) in `timeZone`. */
export function today(now: number, timeZone: string): string {
  return formatTime(now, timeZone).slice(0, 10);
}

/** How far `timeZone` is ahead of UTC at about `at` (ms). */
function zoneOffset(at: number, timeZone: string): number {
  const shown = formatTime(at, timeZone);
  const asUtc = Date.parse(`${shown.replace(' ', 'T')}Z`);
  return asUtc - Math.floor(at / 1000) * 1000;
}
