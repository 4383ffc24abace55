import type { Readable } from 'node:stream';

import type { SMTPServer, SMTPServerAddress, SMTPServerOptions, SMTPServerSession } from 'smtp-server';

import type { Config } from '../config/loadConfig.js';
import { originalEnvelopeSender } from '../domain/envelopeSender.js';
import { describeBreach } from '../domain/senderQuota.js';
import { mayUserSendAs } from '../domain/senderTrust.js';
import { makeAddressMatcher } from '../lib/cidr.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../log.js';
import type { JobStore } from '../store/jobStore.js';
import { findAuthUser, makeAuthHandler, type OnAuth } from './auth.js';
import { makeAuthThrottle } from './authThrottle.js';
import { makeConnectionSlots } from './connectionSlots.js';
import { makeMessageGuard, type MessageGuard } from './messageGuard.js';
import { makeConnectionRateLimiter, makeSenderQuota } from './rateLimits.js';
import type { SmtpReplyError } from './replies.js';
import { securityReplies } from './securityReplies.js';
import type { DnsResolver } from './senderAuth.js';
import { type ImplicitTlsListener, readTlsFiles, startImplicitTlsListener, watchTlsReload } from './tls.js';

/**
 * The security controls of the SMTP listener in one object that server.ts calls at each step: TLS and
 * AUTH options, connection rate, require_tls and submission mode at MAIL, the per-sender fax limit at RCPT, and
 * per message (messageGuard.ts) the sender authentication, the page limit and the DATA deadline.
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

export interface SmtpGuards {
  /** The listener's limits, TLS and AUTH options: decided here only, server.ts does not set them. */
  serverOptions: Partial<SMTPServerOptions>;
  onAuth: OnAuth;
  onConnect(session: SMTPServerSession): SmtpReplyError | null;
  /** Every session's end, refused or not: gives back its connection slot. */
  onClose(session: SMTPServerSession): void;
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
  const slots = makeConnectionSlots({
    maxClients: smtp.max_clients,
    perAddress: smtp.max_clients_per_address,
    relaySlots: smtp.trusted_relays.length > 0 ? (smtp.relay_slots ?? Math.floor(smtp.max_clients / 5)) : 0,
  });
  const authThrottle = makeAuthThrottle(clock);
  const quota = makeSenderQuota({ store, clock, limits: config.limits });
  const servers: SMTPServer[] = [];
  const onAuth = await makeAuthHandler({
    users: smtp.auth,
    allowInsecure: smtp.allow_insecure_auth,
    log,
    onRejected: deps.onRejected,
    throttle: authThrottle,
    closeConnection: (session) => {
      for (const connection of connectionsOf(session)) connection.close();
    },
  });
  const tlsFiles = smtp.tls ? readTlsFiles(smtp.tls) : null;
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
    // The slots above decide who gets a session, with a reason in the reply. The library's own count also
    // holds sockets not yet greeted (and TLS handshakes), so it is only a backstop against descriptor floods.
    maxClients: 2 * smtp.max_clients,
    socketTimeout: smtp.socket_timeout,
    ...(tlsFiles ? { cert: tlsFiles.cert, key: tlsFiles.key } : {}),
  };

  /** The library's connection objects of `session` (one, on whichever listener it arrived). */
  function* connectionsOf(session: SMTPServerSession) {
    for (const server of servers) {
      for (const connection of server.connections) if (connection.id === session.id) yield connection;
    }
  }

  /** Closes the connection of `session` with a reply, from outside a command handler (the DATA deadline). */
  const hangUp = (session: SMTPServerSession, reply: SmtpReplyError): void => {
    for (const connection of connectionsOf(session)) {
      connection.send(reply.responseCode, reply.message, false);
      connection.close();
    }
  };

  return {
    serverOptions,
    onAuth,

    onConnect(session) {
      const remote = session.remoteAddress;
      const isTrusted = trusted(remote);
      if (!isTrusted && !connections.allow(remote)) {
        sessionLog(session).warn({ remote }, 'too many connections from this address');
        return refuse(securityReplies.tooManyConnections(smtp.connections_per_minute));
      }
      const full = slots.admit(session.id, remote, isTrusted);
      if (!full) return null;
      sessionLog(session).warn(
        { remote, limit: full.kind, max: full.max, open: slots.size() },
        'no free slot',
      );
      return refuse(
        full.kind === 'address_full'
          ? securityReplies.tooManyOpenConnections(full.max)
          : securityReplies.listenerFull(full.max),
      );
    },

    onClose(session) {
      slots.release(session.id);
      authThrottle.forgetSession(session.id);
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
      // Keyed by the sender behind a BATV/SRS rewrite, whose tag changes with every message.
      const key = originalEnvelopeSender(sender).toLowerCase();
      const breach = await quota.check(key, { faxes: numbers.length + 1, pages: 0 });
      if (!breach) return null;
      sessionLog(session).warn({ sender, limit: breach.limit, max: breach.max }, 'sender limit reached');
      return refuse(securityReplies.limitReached(describeBreach(sender, breach)));
    },

    forMessage: (stream, session, numbers, messageLog) =>
      makeMessageGuard(
        {
          config,
          quota,
          isTrustedRelay: trusted,
          hangUp,
          dnsResolver: deps.dnsResolver,
          onRejected: deps.onRejected,
        },
        stream,
        session,
        numbers,
        messageLog,
      ),

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
