import { checkFaxNumber, type NumberPolicy } from '../domain/phoneNumber.js';

export type RecipientVerdict =
  | { kind: 'fax'; e164: string }
  | { kind: 'bounce' }
  | { kind: 'refused'; why: 'relay' | 'number'; reason: string };

/**
 * Decides what an RCPT address is: a fax number at one of our domains, the receipts' own address (bounces
 * of receipts come back there), or a refusal naming why.
 */
export function classifyRecipient(
  address: string,
  options: { domains: readonly string[]; policy: NumberPolicy; bounceAddress: string },
): RecipientVerdict {
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : address;
  const domain = at > 0 ? address.slice(at + 1).toLowerCase() : '';
  if (address.toLowerCase() === options.bounceAddress.toLowerCase()) return { kind: 'bounce' };
  if (!options.domains.includes(domain))
    return { kind: 'refused', why: 'relay', reason: domain || '(no domain)' };
  const verdict = checkFaxNumber(local, options.policy);
  return verdict.ok
    ? { kind: 'fax', e164: verdict.e164 }
    : { kind: 'refused', why: 'number', reason: verdict.reason };
}

/** The distinct fax numbers of an envelope, in the order first given (the same number twice is one job). */
export function faxNumbersOf(
  addresses: ReadonlyArray<{ address: string }>,
  options: Parameters<typeof classifyRecipient>[1],
): string[] {
  const numbers: string[] = [];
  for (const { address } of addresses) {
    const verdict = classifyRecipient(address, options);
    if (verdict.kind === 'fax' && !numbers.includes(verdict.e164)) numbers.push(verdict.e164);
  }
  return numbers;
}
