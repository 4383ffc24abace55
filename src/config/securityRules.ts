import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import { makeAddressMatcher } from '../lib/cidr.js';
import { parsePasswordHash } from '../lib/passwordHash.js';
import type { Config, ConfigProblem } from './types.js';

/**
 * Cross-key rules of the SMTP security settings, so that `check-config` catches a listener that could
 * never authenticate anybody, or would ask for passwords in clear, before the daemon starts.
 */
export function checkSmtpSecurityRules(config: Config): {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const smtp = config.smtp;
  const problem = (key: string, message: string) => problems.push({ key, message });

  if (smtp.mode === 'submission' && smtp.auth.length === 0) {
    problem('smtp.auth', 'submission mode needs at least one user (smtp.auth: [{user, password_hash}])');
  }
  if (smtp.auth.length > 0 && !smtp.tls && !smtp.allow_insecure_auth) {
    problem(
      'smtp.tls',
      'SMTP AUTH needs TLS (smtp.tls) so passwords are not sent in clear; or set smtp.allow_insecure_auth',
    );
  }
  if (smtp.tls_listen && !smtp.tls) problem('smtp.tls_listen', 'needs smtp.tls (cert and key)');
  if (smtp.require_tls && !smtp.tls) problem('smtp.require_tls', 'needs smtp.tls (cert and key)');
  if (smtp.tls) {
    const why = tlsFilesProblem(smtp.tls);
    if (why) problem('smtp.tls', why);
  }
  if (
    smtp.tls_listen &&
    smtp.tls_listen.port !== 0 &&
    smtp.tls_listen.port === smtp.listen.port &&
    smtp.tls_listen.host === smtp.listen.host
  ) {
    problem('smtp.tls_listen', 'must differ from smtp.listen');
  }

  const users = new Set<string>();
  smtp.auth.forEach((entry, index) => {
    const user = entry.user.toLowerCase();
    if (users.has(user)) problem(`smtp.auth.${index}.user`, `${entry.user} is listed twice`);
    users.add(user);
    if (!parsePasswordHash(entry.password_hash)) {
      problem(
        `smtp.auth.${index}.password_hash`,
        'expected scrypt$N$r$p$salt$hash as printed by `faxbridge hash-password`',
      );
    }
    if (!entry.send_as && !user.includes('@')) {
      problem(
        `smtp.auth.${index}.send_as`,
        `user ${entry.user} is not an address: list the addresses it sends as`,
      );
    }
  });
  if (smtp.allow_insecure_auth && smtp.auth.length > 0 && !config.sandbox) {
    warnings.push({ key: 'smtp.allow_insecure_auth', message: 'passwords may cross the network in clear' });
  }
  problems.push(...openAccessProblems(config));
  const writable = worldWritableWarning(config.config_file);
  if (writable) warnings.push(writable);
  return { problems, warnings };
}

const isLoopback = makeAddressMatcher(['127.0.0.0/8', '::1/128']);

/**
 * A relay-mode listener reachable from other hosts that admits, or trusts, every address lets anybody on the
 * network fax at the office's expense (trusted relays even skip SPF/DKIM/DMARC). Submission mode is exempt: every
 * message needs AUTH there. Sandbox faxes nothing for real.
 */
function openAccessProblems(config: Config): ConfigProblem[] {
  const smtp = config.smtp;
  if (config.sandbox || smtp.mode !== 'relay' || smtp.allow_open_access) return [];
  const listeners = [smtp.listen, ...(smtp.tls_listen ? [smtp.tls_listen] : [])];
  const exposed = listeners.find(({ host }) => host !== 'localhost' && !isLoopback(host));
  if (!exposed) return [];
  const where = `${exposed.host}:${exposed.port}`;
  const problems: ConfigProblem[] = [];
  for (const key of ['allowed_clients', 'trusted_relays'] as const) {
    const everyone = smtp[key].find(isEveryAddress);
    if (!everyone) continue;
    problems.push({
      key: `smtp.${key}`,
      message:
        `${everyone} ${key === 'trusted_relays' ? 'trusts' : 'admits'} every address and ${where} is reachable ` +
        'from other hosts: anybody could send faxes at your expense. List your own networks or mail servers, ' +
        'or set smtp.allow_open_access: true if that is intended',
    });
  }
  return problems;
}

/** `0.0.0.0/0`, `::/0` (any prefix length 0): the whole address space. */
function isEveryAddress(range: string): boolean {
  return range.split('/')[1] === '0';
}

/** Any local user who can write the config can redirect faxes, mail and secrets. */
function worldWritableWarning(file: string | null): ConfigProblem | null {
  if (!file) return null;
  try {
    if ((statSync(file).mode & 0o002) === 0) return null;
  } catch {
    return null;
  }
  return {
    key: '(file)',
    message: `${file} is writable by every local user: anyone on this machine could change where faxes and mail go (chmod o-w)`,
  };
}

/** Loads the PEM files the way the listener will, so a wrong path or a key that fits no certificate shows here. */
function tlsFilesProblem(tls: { cert: string; key: string }): string | null {
  try {
    const files = { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
    createSecureContext(files);
    return null;
  } catch (error) {
    return `cannot use the certificate and key: ${(error as Error).message.split('\n')[0]}`;
  }
}
