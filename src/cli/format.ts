/** Plain-text output helpers for the operator commands: aligned columns and readable times. */

/**
 * C0 and C1 controls (ESC, CSI, BEL, CR…), DEL, line and paragraph separators and the bidirectional overrides.
 * Subjects, file names and bounce texts come from strangers' mail; printed raw, `\x1b[2J` or an OSC 52
 * sequence would act on the operator's terminal, and U+202E would show a file name backwards.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from mail made safe to print: every control shown as a visible escape (`\x1b`, `\u202e`). */
export function printable(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** What JSON.stringify leaves raw inside strings; it escapes C0 controls itself (its line breaks are layout). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify writes C1 controls (U+009B is a one-byte CSI to some terminals), DEL and the bidirectional
 * overrides as they are; `\uXXXX` makes them harmless and means the same to a JSON parser.
 */
export function printableJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** ISO-8601 in UTC without milliseconds, or `-` for no time. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows.map((row) => row.map(printable))];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** `key: value` lines with the keys aligned, skipping empty values. */
export function formatFields(fields: Array<[string, string | number | null | undefined]>): string[] {
  const shown = fields.filter(([, value]) => value !== null && value !== undefined && value !== '');
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `  ${`${key}:`.padEnd(width + 1)} ${printable(String(value))}`);
}
