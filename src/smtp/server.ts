import { randomBytes } from 'node:crypto';

import type { SMTPServerSession } from 'smtp-server';

import type { Config } from '../config/loadConfig.js';
import { originalEnvelopeSender } from '../domain/envelopeSender.js';
import { loadPhoneNumbers, phoneNumbersLoaded } from '../domain/phoneNumber.js';
import { findSender } from '../domain/senders.js';
import { coerceError, FaxError } from '../errors.js';
import { makeAddressMatcher } from '../lib/cidr.js';
import { formatBytes } from '../lib/units.js';
import type { Logger } from '../log.js';
import { installEnhancedCodePassthrough } from './enhancedCodes.js';
import { makeSmtpGuards } from './guards.js';
import { installQuotedRecipientSpaces } from './quotedRecipients.js';
import type { ReceiveDeps } from './receive.js';
import { receiveMessage } from './receive.js';
import { classifyRecipient, faxNumbersOf } from './recipients.js';
import { replies } from './replies.js';
import type { DnsResolver } from './senderAuth.js';
import { SMTPServer } from './smtpServerLibrary.js';

export interface SmtpListener {
  server: SMTPServer;
  address(): { host: string; port: number };
  /** The implicit-TLS listener's address (`smtp.tls_listen`), null without one. */
  tlsAddress(): { host: string; port: number } | null;
  /** Reloads the TLS certificate and key from their files, as SIGHUP does; false when they could not be read. */
  reloadTls(): boolean;
  /** Stops accepting; sessions in DATA get `graceMs` to finish before a 421. */
  close(graceMs?: number): Promise<void>;
}

export interface SmtpDeps extends ReceiveDeps {
  config: Config;
  log: Logger;
  /** Called after a message was queued with its number of fax jobs, so workers can pick it up at once. */
  onQueued?: (jobs: number) => void;
  onRejected?: (reason: string) => void;
  /** Called when a message's DATA begins and again when it has been answered, whatever the answer. */
  onDataActivity?: () => void;
  /** DNS for SPF/DKIM/DMARC of relayed mail (tests inject a table); the system resolver when absent. */
  dnsResolver?: DnsResolver;
}

/** The address inside `mail.from` ("Fax <fax@x>" → fax@x): receipts come from it and bounces return to it. */
export function addressOf(mailbox: string): string {
  const match = /<([^>]+)>/.exec(mailbox);
  return (match ? match[1]! : mailbox).trim().toLowerCase();
}

export async function startSmtpListener(deps: SmtpDeps): Promise<SmtpListener> {
  installEnhancedCodePassthrough();
  installQuotedRecipientSpaces();
  const { config, log } = deps;
  const smtp = config.smtp;
  const clientAllowed = makeAddressMatcher(smtp.allowed_clients);
  const recipientOptions = {
    domains: smtp.domains,
    bounceAddress: addressOf(config.mail.from),
    policy: {
      defaultCountry: smtp.default_country,
      allowedCountries: smtp.allowed_countries,
      blockedPrefixes: smtp.blocked_prefixes,
    },
  };
  const refuse = (reason: string, error: Error) => {
    deps.onRejected?.(reason);
    return error;
  };
  const sessionLog = (session: SMTPServerSession) => log.child({ session: session.id });
  // Connection limits, TLS, AUTH, sender limits and sender authentication; the listener options are its own.
  const guards = await makeSmtpGuards(deps);

  const server = new SMTPServer({
    name: smtp.hostname,
    banner: 'faxbridge ESMTP fax gateway',
    size: smtp.max_message_size,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    logger: false,
    closeTimeout: config.shutdown_grace,
    ...guards.serverOptions,
    onAuth: guards.onAuth,
    onClose: (session) => guards.onClose(session),

    onConnect(session, callback) {
      if (!clientAllowed(session.remoteAddress)) {
        sessionLog(session).warn({ remote: session.remoteAddress }, 'client address not allowed');
        return callback(refuse('client_not_allowed', replies.clientNotAllowed(session.remoteAddress)));
      }
      callback(guards.onConnect(session));
    },

    onMailFrom(address, session, callback) {
      const guarded = guards.onMailFrom(address, session);
      if (guarded) return callback(guarded);
      const sender = address.address;
      // A null sender is fine for bounces of our receipts; for fax recipients it is refused at RCPT. A gateway's
      // BATV or SRS rewrite is judged as the sender it stands for.
      if (sender && !findSender(config.senders, originalEnvelopeSender(sender), config.sandbox)) {
        sessionLog(session).info({ sender }, 'envelope sender not allowed to fax');
        return callback(refuse('sender_not_allowed', replies.senderNotAllowed(sender)));
      }
      // Fax numbers are read from RCPT on, and smtp-server takes no RCPT before MAIL: the numbering library is
      // loaded here on the first transaction after start, not at start (domain/phoneNumber.ts).
      if (phoneNumbersLoaded()) return callback();
      loadPhoneNumbers().then(
        () => callback(),
        (error: unknown) => {
          sessionLog(session).error({ err: error }, 'the numbering library could not be loaded');
          callback(refuse('unavailable', replies.unavailable('Fax number checking')));
        },
      );
    },

    onRcptTo(address, session, callback) {
      const verdict = classifyRecipient(address.address, recipientOptions);
      if (verdict.kind === 'refused') {
        sessionLog(session).info({ rcpt: address.address, why: verdict.why }, 'recipient refused');
        return callback(
          verdict.why === 'relay'
            ? refuse('relay_denied', replies.relayDenied(verdict.reason))
            : refuse('bad_number', replies.badNumber(verdict.reason)),
        );
      }
      if (verdict.kind === 'bounce') {
        if (session.envelope.mailFrom && session.envelope.mailFrom.address) {
          return callback(refuse('relay_denied', replies.relayDenied(address.address.split('@')[1] ?? '')));
        }
        return callback();
      }
      if (!session.envelope.mailFrom || !session.envelope.mailFrom.address) {
        return callback(refuse('null_sender', replies.nullSender()));
      }
      const numbers = faxNumbersOf(session.envelope.rcptTo, recipientOptions);
      if (!numbers.includes(verdict.e164) && numbers.length >= smtp.max_recipients) {
        return callback(refuse('too_many_recipients', replies.tooManyRecipients(smtp.max_recipients)));
      }
      guards.onRcptTo(session, verdict.e164, numbers).then(
        (refusal) => callback(refusal),
        (error: unknown) => {
          sessionLog(session).error({ err: error }, 'sender limits could not be checked');
          callback(refuse('unavailable', replies.unavailable('The fax queue')));
        },
      );
    },

    onData(stream, session, smtpCallback) {
      const numbers = faxNumbersOf(session.envelope.rcptTo, recipientOptions);
      const slog = sessionLog(session).child({ transaction: randomBytes(4).toString('hex') });
      const guarded = guards.forMessage(stream, session, numbers, slog);
      const callback = guarded.finish(smtpCallback);
      deps.onDataActivity?.();
      receiveMessage(deps, guarded.input, {
        sessionId: session.id,
        envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        numbers,
        maxMessageSize: smtp.max_message_size,
        log: slog,
        checks: guarded.checks,
      })
        .then(
          (reply) => {
            if (numbers.length > 0) deps.onQueued?.(numbers.length);
            callback(null, reply);
          },
          (thrown: unknown) => {
            const error = coerceError(thrown);
            if ('responseCode' in error) {
              deps.onRejected?.(String((error as Error & { reason?: string }).reason ?? error.responseCode));
              return callback(error);
            }
            // Anything unexpected is our fault, so the sender's server should retry, not give up.
            slog.error({ err: error }, 'message could not be processed');
            deps.onRejected?.('unavailable');
            const what =
              error instanceof FaxError && error.code === 'database_unavailable'
                ? 'The fax queue'
                : 'Fax storage';
            callback(replies.unavailable(what));
          },
        )
        .finally(() => deps.onDataActivity?.());
    },
  });

  server.on('error', (error) => log.error({ err: error }, 'smtp server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(smtp.listen.port, smtp.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.server.address();
  const address = {
    host: smtp.listen.host,
    port: typeof bound === 'object' && bound ? bound.port : smtp.listen.port,
  };
  log.info({ ...address, maxMessageSize: formatBytes(smtp.max_message_size) }, 'smtp listening');
  await guards.start(server);

  return {
    server,
    address: () => address,
    tlsAddress: () => guards.tlsAddress(),
    reloadTls: () => guards.reloadTls(),
    close: (graceMs) =>
      Promise.all([
        new Promise<void>((resolve) => {
          // 0 would mean the library's default (30 s), not "now".
          if (graceMs !== undefined) server.options.closeTimeout = Math.max(1, graceMs);
          server.close(() => resolve());
        }),
        guards.close(graceMs ?? config.shutdown_grace),
      ]).then(() => undefined),
  };
}
