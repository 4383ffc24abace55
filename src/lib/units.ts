export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const KB = 1024;
export const MB = 1024 * KB;
export const GB = 1024 * MB;

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: KB, k: KB, mb: MB, m: MB, gb: GB, g: GB };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, '': SECOND };

/** Parses `70MB`, `512kb`, `1048576` into bytes (binary units, as docs/behaviour.md says). Returns null when unreadable. */
export function tryParseSize(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.floor(text) : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && factor !== undefined ? Math.floor(Number(match[1]) * factor) : null;
}

/** Parses `25s`, `3m`, `24h`, `7d`, `250ms` into milliseconds; a bare number means seconds. */
export function tryParseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * SECOND : null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|)\s*$/i.exec(text);
  const factor = match ? DURATION_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && factor !== undefined ? Math.round(Number(match[1]) * factor) : null;
}

export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= KB) return `${Math.round(bytes / KB)} KB`;
  return `${bytes} bytes`;
}
