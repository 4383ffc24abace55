import path from 'node:path';
import type { Readable } from 'node:stream';

import type { SMTPServer, SMTPServerAddress, SMTPServerOptions, SMTPServerSession } from 'smtp-server';

import type { Config } from '../config/loadConfig.js';
import { describeBreach } from '../domain/senderQuota.js';
import { decideSenderCheck, judgeAuthentication, mayUserSendAs } from '../domain/senderTrust.js';
import { makeAddressMatcher } from '../lib/cidr.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../log.js';
import type { JobStore } from '../store/jobStore.js';
import { findAuthUser, makeAuthHandler, type OnAuth } from './auth.js';
import type { IntakeChecks } from './intakeChecks.js';
import { makeConnectionRateLimiter, makeSenderQuota } from './rateLimits.js';
import type { SmtpReplyError } from './replies.js';
import { securityReplies } from './securityReplies.js';
import { checkSenderAuthentication, type DnsResolver } from './senderAuth.js';
import { spoolMessage } from './spool.js';
import { type ImplicitTlsListener, readTlsFiles, startImplicitTlsListener, watchTlsReload } from './tls.js';

/**
 * The security controls of the SMTP listener (issue 7) in one object that server.ts calls at each step: TLS and
 * AUTH options, connection rate, require_tls and submission mode at MAIL, the per-sender fax limit at RCPT, and
 * per message the sender authentication (AUTH user, trusted relay, or SPF/DKIM/DMARC, see
 * src/domain/senderTrust.ts), the page limit and a deadline for the DATA transfer.
 */
export interface SmtpGuardDeps {
  config: Config;
  log: Logger;
  store: JobStore;
  clock: Clock;
  /** DNS for SPF/DKIM/DMARC; the system resolver when absent (tests serve records from a table). */
  dnsResolver?: DnsResolver;
  onRejected?: (reason: string) => void;
}

export interface MessageGuard {
  /** Read the message from this (a copy goes to disk on the way when DMARC must be checked). */
  input: Readable;
  checks: IntakeChecks;
  /** Wraps the onData callback: answering also stops the DATA deadline and deletes the copy. */
  finish<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void;
}

export interface SmtpGuards {
  serverOptions: Partial<SMTPServerOptions>;
  onAuth: OnAuth;
  onConnect(session: SMTPServerSession): SmtpReplyError | null;
  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): SmtpReplyError | null;
  /** `numbers`: the fax numbers accepted so far in this envelope. */
  onRcptTo(
    session: SMTPServerSession,
    e164: string,
    numbers: readonly string[],
  ): Promise<SmtpReplyError | null>;
  forMessage(
    stream: Readable,
    session: SMTPServerSession,
    numbers: readonly string[],
    log: Logger,
  ): MessageGuard;
  /** After the primary listens: the implicit-TLS listener and the SIGHUP certificate reload. */
  start(primary: SMTPServer): Promise<void>;
  tlsAddress(): { host: string; port: number } | null;
  /** Reloads the certificate now (what SIGHUP does); false when it could not be read. */
  reloadTls(): boolean;
  close(graceMs: number): Promise<void>;
}

export async function makeSmtpGuards(deps: SmtpGuardDeps): Promise<SmtpGuards> {
  const { config, log, store, clock } = deps;
  const smtp = config.smtp;
  const trusted = makeAddressMatcher(smtp.trusted_relays);
  const connections = makeConnectionRateLimiter(smtp.connections_per_minute, clock);
  const quota = makeSenderQuota({ store, clock, limits: config.limits });
  const onAuth = await makeAuthHandler({
    users: smtp.auth,
    allowInsecure: smtp.allow_insecure_auth,
    log,
    onRejected: deps.onRejected,
  });
  const tlsFiles = smtp.tls ? readTlsFiles(smtp.tls) : null;
  const servers: SMTPServer[] = [];
  let implicitTls: ImplicitTlsListener | null = null;
  let reloader: ReturnType<typeof watchTlsReload> | null = null;
  const sessionLog = (session: SMTPServerSession) => log.child({ session: session.id });
  const refuse = (error: SmtpReplyError): SmtpReplyError => {
    deps.onRejected?.(error.reason);
    return error;
  };

  const serverOptions: Partial<SMTPServerOptions> = {
    disabledCommands: [...(smtp.auth.length > 0 ? [] : ['AUTH']), ...(tlsFiles ? [] : ['STARTTLS'])],
    authMethods: ['PLAIN', 'LOGIN'],
    // Submission mode asks for AUTH in onMailFrom, with our own reply; bounces and relayed mail need none.
    authOptional: true,
    allowInsecureAuth: smtp.allow_insecure_auth,
    maxClients: smtp.max_clients,
    socketTimeout: smtp.socket_timeout,
    ...(tlsFiles ? { cert: tlsFiles.cert, key: tlsFiles.key } : {}),
  };

  /** Closes the connection of `session` with a reply, from outside a command handler (the DATA deadline). */
  const hangUp = (session: SMTPServerSession, reply: SmtpReplyError): void => {
    for (const server of servers) {
      for (const connection of server.connections) {
        if (connection.id !== session.id) continue;
        connection.send(reply.responseCode, reply.message, false);
        connection.close();
      }
    }
  };

  return {
    serverOptions,
    onAuth,

    onConnect(session) {
      if (trusted(session.remoteAddress) || connections.allow(session.remoteAddress)) return null;
      sessionLog(session).warn({ remote: session.remoteAddress }, 'too many connections from this address');
      return refuse(securityReplies.tooManyConnections(smtp.connections_per_minute));
    },

    onMailFrom(address, session) {
      if (smtp.require_tls && !session.secure) return refuse(securityReplies.tlsRequired());
      if (smtp.mode === 'submission' && !session.user) return refuse(securityReplies.authRequired());
      const user = findAuthUser(smtp.auth, session.user);
      if (user && address.address && !mayUserSendAs(user, address.address)) {
        sessionLog(session).info(
          { user: user.user, sender: address.address },
          'user may not send as this sender',
        );
        return refuse(securityReplies.notYourAddress(user.user, address.address));
      }
      return null;
    },

    async onRcptTo(session, e164, numbers) {
      const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      if (!sender || numbers.includes(e164)) return null;
      const breach = await quota.check(sender.toLowerCase(), { faxes: numbers.length + 1, pages: 0 });
      if (!breach) return null;
      sessionLog(session).warn({ sender, limit: breach.limit, max: breach.max }, 'sender limit reached');
      return refuse(securityReplies.limitReached(describeBreach(sender, breach)));
    },

    forMessage(stream, session, numbers, mlog) {
      const check = decideSenderCheck({
        user: findAuthUser(smtp.auth, session.user)?.user ?? null,
        trustedRelay: trusted(session.remoteAddress),
      });
      // A spooled copy only when DMARC will read it; a bounce of a receipt (no fax numbers) is never checked.
      const spool =
        check.kind === 'verify_dmarc' && numbers.length > 0
          ? spoolMessage(stream, path.join(config.data_dir, 'tmp'), session.id, smtp.max_message_size)
          : null;
      const deadline = setTimeout(() => {
        mlog.warn({ limitMs: smtp.data_timeout }, 'DATA took too long; closing the connection');
        deps.onRejected?.('timeout');
        // Destroying the stream ends the parse; the client is told why before the connection closes.
        (spool?.stream ?? stream).destroy(new Error('DATA deadline passed'));
        hangUp(session, securityReplies.dataTimeout(Math.round(smtp.data_timeout / 1000)));
      }, smtp.data_timeout);
      deadline.unref();
      stream.once('end', () => clearTimeout(deadline));

      const checks: IntakeChecks = {
        async authorizeSender(sender) {
          if (check.kind === 'authenticated') {
            const user = findAuthUser(smtp.auth, check.user)!;
            const ok = mayUserSendAs(user, sender);
            mlog.info({ senderCheck: 'auth', user: user.user, sender, ok }, 'sender decision');
            // Thrown replies are counted by the onData handler, so not through refuse() here.
            if (!ok) throw securityReplies.notYourAddress(user.user, sender);
            return;
          }
          if (check.kind === 'trusted_relay') {
            mlog.info(
              { senderCheck: 'trusted_relay', remote: session.remoteAddress, sender, ok: true },
              'sender decision',
            );
            return;
          }
          const fromDomain = sender.slice(sender.lastIndexOf('@') + 1).toLowerCase();
          const summary = await spool!.done().then(
            () =>
              checkSenderAuthentication(
                {
                  spoolPath: spool!.path,
                  ip: session.remoteAddress,
                  helo: session.hostNameAppearsAs || '',
                  envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                  fromDomain,
                  mta: smtp.hostname,
                },
                { resolver: deps.dnsResolver },
              ),
            (error: Error) => ({
              fromDomain,
              spf: { result: 'temperror', domain: null },
              dkim: [],
              dmarc: null,
              error: `the message copy could not be kept (${error.message})`,
            }),
          );
          const verdict = judgeAuthentication(summary);
          mlog.info(
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
          const breach = await quota.check(sender, adding);
          if (!breach) return;
          mlog.warn({ sender, limit: breach.limit, max: breach.max, adding }, 'sender limit reached');
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
            spool?.remove().catch((error: unknown) => mlog.warn({ err: error }, 'spool file not removed'));
            callback(...args);
          },
      };
    },

    async start(primary) {
      servers.push(primary);
      if (smtp.tls_listen) {
        implicitTls = await startImplicitTlsListener(primary, smtp.tls_listen, log);
        servers.push(implicitTls.server);
      }
      if (smtp.tls) reloader = watchTlsReload({ paths: smtp.tls, servers: () => servers, log });
    },
    tlsAddress: () => implicitTls?.address() ?? null,
    reloadTls: () => reloader?.reload() ?? false,
    async close(graceMs) {
      reloader?.stop();
      await implicitTls?.close(graceMs);
    },
  };
}
