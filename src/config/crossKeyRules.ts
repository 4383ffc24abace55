import { checkCoverFiles } from './coverFiles.js';
import { checkSmtpSecurityRules } from './securityRules.js';
import type { Config, ConfigProblem } from './types.js';

/** SigV4 presigned URLs live at most a week; see docs/dependencies.md (@aws-sdk/client-s3). */
const PRESIGNED_URL_LIMIT_MS = 7 * 24 * 3600 * 1000;

/**
 * The rules that involve several keys or the mode (docs/behaviour.md §1–§2), checked once the schema passed.
 * Problems stop the start (and make check-config exit 1); warnings are printed and do not.
 */
export function checkCrossKeyRules(
  config: Config,
  publicUrlGiven: boolean,
): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  if (!config.sandbox) {
    if (config.senders.length === 0)
      problems.push({ key: 'senders', message: 'required outside sandbox mode' });
    if (!config.telnyx.public_key) {
      problems.push({
        key: 'telnyx.public_key',
        message: 'required outside sandbox mode (or TELNYX_PUBLIC_KEY)',
      });
    }
    if (!config.telnyx.connection_id) {
      problems.push({
        key: 'telnyx.connection_id',
        message: 'required outside sandbox mode (or TELNYX_CONNECTION_ID)',
      });
    }
    if (!publicUrlGiven) {
      problems.push({
        key: 'http.public_url',
        message: 'required outside sandbox mode: how Telnyx reaches us',
      });
    } else if (!config.http.public_url.startsWith('https://')) {
      warnings.push({
        key: 'http.public_url',
        message: 'is not https: Telnyx will fetch documents in clear',
      });
    }
  }
  if (config.telnyx.public_key && Buffer.from(config.telnyx.public_key, 'base64').length !== 32) {
    problems.push({
      key: 'telnyx.public_key',
      message: 'expected the base64 of a 32-byte Ed25519 public key',
    });
  }
  if (config.storage.driver === 's3' && !config.storage.s3) {
    problems.push({ key: 'storage.s3', message: 'required when storage.driver is s3 (bucket at least)' });
  }
  if (config.storage.url_ttl > PRESIGNED_URL_LIMIT_MS) {
    problems.push({ key: 'storage.url_ttl', message: 'at most 7d (the limit of presigned URLs)' });
  }
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(config.database.url)) {
    problems.push({ key: 'database.url', message: 'expected sqlite:PATH or postgres://…' });
  }
  const matches = new Set<string>();
  config.senders.forEach((sender, index) => {
    const key = sender.match.toLowerCase();
    if (matches.has(key)) problems.push({ key: `senders.${index}.match`, message: `${key} is listed twice` });
    matches.add(key);
  });
  const numbers = new Set<string>();
  config.inbound.forEach((route, index) => {
    if (numbers.has(route.number)) {
      problems.push({ key: `inbound.${index}.number`, message: `${route.number} is routed twice` });
    }
    numbers.add(route.number);
  });
  problems.push(...consoleProblems(config));
  problems.push(...checkCoverFiles(config));
  const security = checkSmtpSecurityRules(config);
  problems.push(...security.problems);
  warnings.push(...security.warnings);
  if (config.admin.length === 0 && !numbers.has('*') && !config.sandbox) {
    warnings.push({
      key: 'admin',
      message: 'no admin addresses and no "*" route: unrouted faxes have nowhere to go',
    });
  }
  return { problems, warnings };
}

/** The console must never be open without a sign-in outside sandbox, nor believe a header from anybody. */
function consoleProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { enabled, users, trusted_header: header, trusted_proxies: proxies } = config.console;
  const canSignIn = users.some((user) => user.password_hash) || Boolean(header);
  if (enabled === true && !config.sandbox && !canSignIn) {
    problems.push({
      key: 'console.enabled',
      message: 'needs console.users with password_hash or console.trusted_header outside sandbox mode',
    });
  }
  if (header && proxies.length === 0) {
    problems.push({
      key: 'console.trusted_proxies',
      message: 'required with console.trusted_header: the header is believed only from these addresses',
    });
  }
  const emails = new Set<string>();
  users.forEach((user, index) => {
    if (emails.has(user.email))
      problems.push({ key: `console.users.${index}.email`, message: `${user.email} is listed twice` });
    emails.add(user.email);
  });
  return problems;
}
