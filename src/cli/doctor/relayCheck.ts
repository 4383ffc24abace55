import type { Config } from '../../config/loadConfig.js';
import { type CheckResult, ok, problem, skipped } from './report.js';
import { probeRelay, type RelayTarget } from './smtpProbe.js';

const NAME = 'mail relay';

/**
 * Receipts and received faxes leave through `mail.smtp_url`. The relay is asked, up to RCPT, whether it takes
 * mail from `mail.from` for the first `admin` address (a stranger's address would test less: relays refuse
 * outside recipients only when the sender is not allowed to relay).
 */
export async function checkRelay(config: Config): Promise<CheckResult> {
  if (!config.mail.smtp_url) {
    const where = `${config.data_dir}/outbox`;
    return config.sandbox
      ? skipped(NAME, `no mail.smtp_url: every email is an .eml file in ${where}`)
      : problem(
          NAME,
          `no mail.smtp_url: receipts and received faxes would only be .eml files in ${where}`,
          'set mail.smtp_url (FAXBRIDGE_MAIL__SMTP_URL) to your relay, e.g. smtp://user:pass@relay.example.com:587',
        );
  }
  const rcpt = config.admin[0] ?? config.inbound.flatMap((route) => route.deliver_to)[0];
  if (!rcpt) return skipped(NAME, 'no admin address (nor any inbound deliver_to) to test delivery to');
  const mailFrom = addressOf(config.mail.from);
  const target = relayTarget(config.mail.smtp_url);
  const verdict = await probeRelay(target, mailFrom, rcpt);
  const at = `${target.host}:${target.port}`;
  if (verdict.ok) {
    return ok(
      NAME,
      `${at} accepts mail from ${mailFrom} to ${rcpt}${verdict.tls ? ' over TLS' : ''} (nothing was sent)`,
    );
  }
  return problem(NAME, `${at} at ${verdict.stage}: ${verdict.reason}`, fixFor(verdict.stage, mailFrom, rcpt));
}

function fixFor(stage: string, mailFrom: string, rcpt: string): string {
  switch (stage) {
    case 'connect':
      return 'check the host and port in mail.smtp_url and that this machine may connect to it';
    case 'AUTH':
      return 'check the user name and password in mail.smtp_url (URL-encode special characters)';
    case 'STARTTLS':
      return "the relay's TLS failed: check its certificate, or use smtps:// for port 465";
    case 'MAIL FROM':
      return `allow ${mailFrom} (mail.from) as a sender on the relay, or set mail.from to an address it accepts`;
    case 'RCPT TO':
      return `let the relay accept mail from this host for ${rcpt} (relay permission, or SMTP AUTH in mail.smtp_url)`;
    default:
      return 'check mail.smtp_url';
  }
}

/** `Fax <fax@example.com>` → `fax@example.com`. */
function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1]?.trim() ?? from.trim();
}

function relayTarget(smtpUrl: string): RelayTarget {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTls: !secure && /^(true|1|yes)$/i.test(url.searchParams.get('require_tls') ?? ''),
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : null,
  };
}
