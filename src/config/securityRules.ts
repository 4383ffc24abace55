import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import { parsePasswordHash } from '../lib/passwordHash.js';
import type { Config, ConfigProblem } from './types.js';

/**
 * Cross-key rules of the SMTP security settings (issue 7), so that `check-config` catches a listener that could
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
  return { problems, warnings };
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
