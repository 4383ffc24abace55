/** One line of `faxbridge doctor`: what was checked, the verdict, and what to do when it is a problem. */
export type Verdict = 'ok' | 'problem' | 'skipped';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  /** What was found, in plain words. */
  detail: string;
  /** For a problem: the change that fixes it. */
  fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, verdict: 'ok', detail });
export const skipped = (name: string, detail: string): CheckResult => ({ name, verdict: 'skipped', detail });
export const problem = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  verdict: 'problem',
  detail,
  fix,
});

const LABEL: Record<Verdict, string> = { ok: 'ok     ', problem: 'PROBLEM', skipped: 'skipped' };

/** Aligned lines a person reads top to bottom; the fix goes right under its problem. */
export function formatReport(results: readonly CheckResult[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${LABEL[result.verdict]}  ${result.name}: ${result.detail}`);
    if (result.fix) lines.push(`         fix: ${result.fix}`);
  }
  const count = (verdict: Verdict) => results.filter((result) => result.verdict === verdict).length;
  lines.push('');
  lines.push(`${count('ok')} ok, ${count('problem')} problems, ${count('skipped')} skipped`);
  return lines;
}
