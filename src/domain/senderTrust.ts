/**
 * Who vouches for the header From of a message (docs/behaviour.md §3 "Who is sending"). Pure rules;
 * the SMTP layer gathers the facts (AUTH user, client address, SPF/DKIM/DMARC results) and acts on the
 * verdict.
 *
 * The rule, in order:
 * 1. An authenticated session (SMTP AUTH) is trusted for the addresses its user may send as (`send_as`,
 *    default the user name itself), whatever DNS says; any other From is refused.
 * 2. A client in `smtp.trusted_relays` is the office's own mail server, which authenticated its users before
 *    relaying: its mail is trusted as it is.
 * 3. Anybody else must prove the From domain: DMARC must pass, i.e. SPF or DKIM passes for a domain aligned with
 *    the From domain. A domain without a DMARC record still needs such an aligned pass. The published policy
 *    (p=none, quarantine) does not soften this: a fax gateway can neither quarantine nor report, and a p=none
 *    domain is exactly one anybody can spoof. DNS trouble answers 451 so the sending server retries.
 */
export type SenderCheck =
  { kind: 'authenticated'; user: string } | { kind: 'trusted_relay' } | { kind: 'verify_dmarc' };

export function decideSenderCheck(facts: { user: string | null; trustedRelay: boolean }): SenderCheck {
  if (facts.user) return { kind: 'authenticated', user: facts.user };
  if (facts.trustedRelay) return { kind: 'trusted_relay' };
  return { kind: 'verify_dmarc' };
}

export interface AuthUserRule {
  user: string;
  send_as?: readonly string[] | undefined;
}

/** An address or `*@domain` from the user's `send_as`, or the user name itself when it lists none. */
export function mayUserSendAs(rule: AuthUserRule, address: string): boolean {
  const wanted = address.trim().toLowerCase();
  const at = wanted.lastIndexOf('@');
  if (at <= 0) return false;
  const patterns = (rule.send_as ?? [rule.user]).map((pattern) => pattern.trim().toLowerCase());
  return patterns.includes(wanted) || patterns.includes(`*@${wanted.slice(at + 1)}`);
}

/** The facts of an SPF/DKIM/DMARC run that the verdict needs (mailauth's result, reduced). */
export interface AuthSummary {
  fromDomain: string;
  /** pass | fail | softfail | neutral | none | temperror | permerror; `domain` is the MAIL FROM (or HELO) domain. */
  spf: { result: string; domain: string | null };
  dkim: Array<{ result: string; domain: string; aligned: boolean }>;
  /** pass | fail | none (no record) | temperror | permerror; null when mailauth could not run DMARC at all. */
  dmarc: { result: string; policy: string | null } | null;
  /** Set when the check itself could not run (deadline, resolver failure): a temporary failure. */
  error?: string;
}

export type AuthVerdict = { ok: true; reason: string } | { ok: false; temporary: boolean; reason: string };

export function judgeAuthentication(summary: AuthSummary): AuthVerdict {
  const from = summary.fromDomain;
  const spfAligned =
    summary.spf.result === 'pass' && !!summary.spf.domain && aligned(summary.spf.domain, from);
  const dkimPass = summary.dkim.filter((signature) => signature.result === 'pass');
  const dkimAligned = dkimPass.find((signature) => signature.aligned || aligned(signature.domain, from));
  const evidence = describeEvidence(summary);

  if (summary.dmarc?.result === 'pass' || (summary.dmarc?.result === 'none' && (spfAligned || dkimAligned))) {
    const by = dkimAligned ? `DKIM d=${dkimAligned.domain}` : `SPF ${summary.spf.domain ?? ''}`.trim();
    return { ok: true, reason: `${from} passed (aligned ${by})` };
  }
  const temporary =
    !!summary.error ||
    summary.dmarc?.result === 'temperror' ||
    (!spfAligned &&
      !dkimAligned &&
      (summary.spf.result === 'temperror' ||
        summary.dkim.some((signature) => signature.result === 'temperror')));
  if (temporary) {
    return {
      ok: false,
      temporary: true,
      reason: `could not check ${from} now (${summary.error ?? 'DNS error'}; ${evidence})`,
    };
  }
  if (!summary.dmarc) {
    return {
      ok: false,
      temporary: false,
      reason: `the sender domain ${from} could not be authenticated (${evidence})`,
    };
  }
  if (summary.dmarc.result === 'none') {
    return {
      ok: false,
      temporary: false,
      reason: `${from} has no DMARC record and neither SPF nor DKIM passed for it (${evidence})`,
    };
  }
  const policy = summary.dmarc.policy ? `, policy ${summary.dmarc.policy}` : '';
  return {
    ok: false,
    temporary: false,
    reason: `DMARC ${summary.dmarc.result} for ${from}${policy} (${evidence})`,
  };
}

/** "SPF softfail for mail.example.net, DKIM none": what the sender's admin needs to fix. */
function describeEvidence(summary: AuthSummary): string {
  const spf = `SPF ${summary.spf.result}${summary.spf.domain ? ` for ${summary.spf.domain}` : ''}`;
  const dkim =
    summary.dkim.length === 0
      ? 'DKIM none'
      : summary.dkim.map((signature) => `DKIM ${signature.result} for d=${signature.domain}`).join(', ');
  return `${spf}, ${dkim}`;
}

/**
 * Relaxed alignment approximated without a public-suffix list: the same domain, or one a subdomain of the other.
 * Stricter than DMARC's organisational-domain rule for sibling subdomains, never looser.
 */
function aligned(domain: string, fromDomain: string): boolean {
  const a = domain.toLowerCase().replace(/\.$/, '');
  const b = fromDomain.toLowerCase().replace(/\.$/, '');
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}
