import path from 'node:path';
import type { Readable } from 'node:stream';

import type { SMTPServerSession } from 'smtp-server';

import type { Config } from '../config/loadConfig.js';
import { describeBreach } from '../domain/senderQuota.js';
import {
  type AuthSummary,
  decideSenderCheck,
  judgeAuthentication,
  mayUserSendAs,
} from '../domain/senderTrust.js';
import type { Logger } from '../log.js';
import { type AuthUser, findAuthUser } from './auth.js';
import type { IntakeChecks } from './intakeChecks.js';
import type { SenderQuota } from './rateLimits.js';
import type { SmtpReplyError } from './replies.js';
import { securityReplies } from './securityReplies.js';
import { checkSenderAuthentication, type DnsResolver } from './senderAuth.js';
import { type Spool, spoolMessage } from './spool.js';

/**
 * The per-message part of the SMTP guards: who vouches for the header From (AUTH user, trusted relay,
 * or SPF/DKIM/DMARC over a spooled copy; rule in src/domain/senderTrust.ts), the per-sender limits before the
 * jobs are stored, and the deadline of the DATA transfer. Every decision is logged with its reason.
 */
export interface MessageGuard {
  /** Read the message from this (a copy goes to disk on the way when DMARC must be checked). */
  input: Readable;
  checks: IntakeChecks;
  /** Wraps the onData callback: answering also stops the DATA deadline and deletes the copy. */
  finish<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void;
}

export interface MessageGuardContext {
  config: Config;
  quota: SenderQuota;
  isTrustedRelay(address: string): boolean;
  /** Ends the session with a reply from outside a command handler. */
  hangUp(session: SMTPServerSession, reply: SmtpReplyError): void;
  dnsResolver?: DnsResolver;
  onRejected?: (reason: string) => void;
}

export function makeMessageGuard(
  ctx: MessageGuardContext,
  stream: Readable,
  session: SMTPServerSession,
  numbers: readonly string[],
  log: Logger,
): MessageGuard {
  const smtp = ctx.config.smtp;
  const user = findAuthUser(smtp.auth, session.user);
  const check = decideSenderCheck({
    user: user?.user ?? null,
    trustedRelay: ctx.isTrustedRelay(session.remoteAddress),
  });
  // A copy only when DMARC will read it; a bounce of a receipt (no fax numbers) is never checked.
  const spool =
    check.kind === 'verify_dmarc' && numbers.length > 0
      ? spoolMessage(stream, path.join(ctx.config.data_dir, 'tmp'), session.id, smtp.max_message_size)
      : null;

  const deadline = setTimeout(() => {
    log.warn({ limitMs: smtp.data_timeout }, 'DATA took too long; closing the connection');
    ctx.onRejected?.('timeout');
    // Destroying the stream ends the parse (receive.ts sees it close early); the client is told why.
    stream.destroy();
    ctx.hangUp(session, securityReplies.dataTimeout(Math.round(smtp.data_timeout / 1000)));
  }, smtp.data_timeout);
  deadline.unref();
  stream.once('end', () => clearTimeout(deadline));

  // Thrown replies are counted by the onData handler, so they do not go through onRejected here.
  const checks: IntakeChecks = {
    async authorizeSender(sender) {
      if (check.kind === 'authenticated') {
        const ok = mayUserSendAs(user as AuthUser, sender);
        log.info({ senderCheck: 'auth', user: check.user, sender, ok }, 'sender decision');
        if (!ok) throw securityReplies.notYourAddress(check.user, sender);
        return;
      }
      if (check.kind === 'trusted_relay') {
        log.info(
          { senderCheck: 'trusted_relay', remote: session.remoteAddress, sender, ok: true },
          'sender decision',
        );
        return;
      }
      const verdict = judgeAuthentication(await authenticateFrom(ctx, spool, session, sender));
      log.info(
        {
          senderCheck: 'dmarc',
          sender,
          ok: verdict.ok,
          reason: verdict.reason,
          remote: session.remoteAddress,
        },
        'sender decision',
      );
      if (verdict.ok) return;
      throw verdict.temporary
        ? securityReplies.senderCheckUnavailable(verdict.reason)
        : securityReplies.senderNotAuthenticated(verdict.reason);
    },
    async checkLimits(sender, adding) {
      const breach = await ctx.quota.check(sender, adding);
      if (!breach) return;
      log.warn({ sender, limit: breach.limit, max: breach.max, adding }, 'sender limit reached');
      throw securityReplies.limitReached(describeBreach(sender, breach));
    },
  };

  return {
    input: spool?.stream ?? stream,
    checks,
    finish:
      (callback) =>
      (...args) => {
        clearTimeout(deadline);
        spool?.remove().catch((error: unknown) => log.warn({ err: error }, 'spool file not removed'));
        callback(...args);
      },
  };
}

/** SPF/DKIM/DMARC of the spooled copy; a copy that could not be kept is a temporary failure to check. */
async function authenticateFrom(
  ctx: MessageGuardContext,
  spool: Spool | null,
  session: SMTPServerSession,
  sender: string,
): Promise<AuthSummary> {
  const fromDomain = sender.slice(sender.lastIndexOf('@') + 1).toLowerCase();
  const unchecked = (why: string): AuthSummary => ({
    fromDomain,
    spf: { result: 'temperror', domain: null },
    dkim: [],
    dmarc: null,
    error: why,
  });
  if (!spool) return unchecked('no copy of the message was kept');
  try {
    await spool.done();
  } catch (error) {
    return unchecked(`the message copy could not be kept (${(error as Error).message})`);
  }
  return checkSenderAuthentication(
    {
      spoolPath: spool.path,
      ip: session.remoteAddress,
      helo: session.hostNameAppearsAs || '',
      envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      fromDomain,
      mta: ctx.config.smtp.hostname,
    },
    { resolver: ctx.dnsResolver },
  );
}
