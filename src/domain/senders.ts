/** The `senders` entries of docs/behaviour.md §2: who may fax, and the caller number each one sends from. */
export interface SenderRule {
  match: string;
  from_number: string;
}

/** The number sandbox users send from when no rule matches them (docs/behaviour.md §1). */
export const SANDBOX_FROM_NUMBER = '+15550000000';

/**
 * Finds the rule for an address: an exact address wins over `*@domain`. In sandbox mode everybody may send.
 * Returns null when the address may not fax.
 */
export function findSender(
  rules: readonly SenderRule[],
  address: string,
  sandbox: boolean,
): { fromNumber: string; rule: string } | null {
  const wanted = address.trim().toLowerCase();
  const at = wanted.lastIndexOf('@');
  if (at <= 0) return null;
  const domain = wanted.slice(at + 1);
  const exact = rules.find((rule) => rule.match.toLowerCase() === wanted);
  const wildcard = rules.find((rule) => rule.match.toLowerCase() === `*@${domain}`);
  const rule = exact ?? wildcard;
  if (rule) return { fromNumber: rule.from_number, rule: rule.match };
  return sandbox ? { fromNumber: SANDBOX_FROM_NUMBER, rule: '(sandbox)' } : null;
}

/** The `senders` entry that applies to an address (exact before `*@domain`), for its name, cover and quality. */
export function findSenderEntry<Rule extends SenderRule>(
  rules: readonly Rule[],
  address: string,
): Rule | null {
  const wanted = address.trim().toLowerCase();
  const domain = wanted.slice(wanted.lastIndexOf('@') + 1);
  return (
    rules.find((rule) => rule.match.toLowerCase() === wanted) ??
    rules.find((rule) => rule.match.toLowerCase() === `*@${domain}`) ??
    null
  );
}
