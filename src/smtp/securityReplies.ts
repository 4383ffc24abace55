import { smtpReply } from './replies.js';

/** The SMTP replies of the security controls, each with its own enhanced code (RFC 3463, RFC 7372). */
export const securityReplies = {
  tlsRequired: () =>
    smtpReply(530, '5.7.0', 'Must issue a STARTTLS command first: this gateway requires TLS', 'tls_required'),
  authRequired: () =>
    smtpReply(530, '5.7.0', 'Authentication required: log in (SMTP AUTH) to send faxes', 'auth_required'),
  notYourAddress: (user: string, address: string) =>
    smtpReply(550, '5.7.1', `${user} may not send as ${address}`, 'sender_not_allowed'),
  senderNotAuthenticated: (reason: string) =>
    smtpReply(550, '5.7.1', `Sender authentication failed: ${reason}`, 'sender_not_authenticated'),
  /** X.4.3 "directory server failure": the DNS answers we need did not come. */
  senderCheckUnavailable: (reason: string) =>
    smtpReply(
      451,
      '4.4.3',
      `Sender authentication is not possible now, try again later: ${reason}`,
      'unavailable',
    ),
  limitReached: (text: string) => smtpReply(451, '4.7.1', text, 'rate_limited'),
  tooManyConnections: (perMinute: number) =>
    smtpReply(
      421,
      '4.7.0',
      `Too many connections from your address (at most ${perMinute} a minute); try again later`,
      'too_many_connections',
    ),
  tooManyOpenConnections: (max: number) =>
    smtpReply(
      421,
      '4.7.0',
      `Too many open connections from your address (at most ${max} at once); try again later`,
      'too_many_connections',
    ),
  listenerFull: (max: number) =>
    smtpReply(
      421,
      '4.7.0',
      `Too many connected clients (at most ${max}); try again in a moment`,
      'too_many_connections',
    ),
  dataTimeout: (seconds: number) =>
    smtpReply(421, '4.4.2', `The message took longer than ${seconds} s to arrive; closing`, 'timeout'),
};
