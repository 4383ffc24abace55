/** Small numeric helpers for reports. Inputs are never sorted in place. */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100); NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** "74 (73–74)": the median and the range, as the anchors' tables show it. */
export function medianRange(values: readonly number[], digits = 0): string {
  const fmt = (v: number) => round(v, digits).toFixed(digits);
  return `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

/** A Markdown table from rows of cells; the first row is the header. */
export function markdownTable(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const [header, ...body] = rows;
  if (!header) return '';
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n');
}
