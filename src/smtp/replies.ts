/**
 * SMTP replies with our own enhanced status codes (RFC 3463). smtp-server turns an Error with `responseCode`
 * into the reply; without one it answers 450 from onData, a temporary failure that senders retry for days, so
 * every refusal goes through here. See docs/dependencies.md (smtp-server).
 */
export interface SmtpReplyError extends Error {
  responseCode: number;
  /** Stable label for `faxbridge_smtp_rejected_total{reason}` and the README's troubleshooting table. */
  reason: SmtpRejectReason;
}

export type SmtpRejectReason =
  | 'client_not_allowed'
  | 'relay_denied'
  | 'bad_number'
  | 'too_many_recipients'
  | 'null_sender'
  | 'sender_not_allowed'
  | 'bad_from_header'
  | 'too_large'
  | 'no_pdf'
  | 'bad_pdf'
  | 'unsupported_document'
  | 'bad_mime'
  | 'unavailable'
  | 'rate_limited'
  | 'tls_required'
  | 'auth_required'
  | 'auth_failed'
  | 'auth_locked'
  | 'sender_not_authenticated'
  | 'too_many_connections'
  | 'timeout'
  | 'other';

export function smtpReply(
  code: number,
  enhanced: string,
  text: string,
  reason: SmtpRejectReason = 'other',
): SmtpReplyError {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code, reason });
}

export const replies = {
  clientNotAllowed: (address: string) =>
    smtpReply(554, '5.7.1', `Your address ${address} may not use this fax gateway`, 'client_not_allowed'),
  relayDenied: (domain: string) =>
    smtpReply(550, '5.7.1', `Relaying denied: ${domain} is not a fax domain of this gateway`, 'relay_denied'),
  badNumber: (reason: string) => smtpReply(550, '5.1.1', reason, 'bad_number'),
  tooManyRecipients: (max: number) =>
    smtpReply(
      452,
      '4.5.3',
      `Too many fax recipients; at most ${max} per message, send the rest separately`,
      'too_many_recipients',
    ),
  nullSender: () =>
    smtpReply(
      550,
      '5.7.1',
      'A fax needs a sender to report back to; the null sender cannot fax',
      'null_sender',
    ),
  senderNotAllowed: (address: string) =>
    smtpReply(550, '5.7.1', `${address} is not allowed to send faxes`, 'sender_not_allowed'),
  badFromHeader: (why: string) => smtpReply(550, '5.7.1', why, 'bad_from_header'),
  tooLarge: (max: string) =>
    smtpReply(552, '5.3.4', `Message too large for fax; the limit is ${max}`, 'too_large'),
  noPdf: (found: string) =>
    smtpReply(
      550,
      '5.6.0',
      `No document found in the message (${found}); attach the document as a PDF, a photo, a scan or an Office file`,
      'no_pdf',
    ),
  badPdf: (filename: string, problem: string) => smtpReply(554, '5.6.0', `${filename} ${problem}`, 'bad_pdf'),
  /** A document refused by kind (550), one that cannot be converted (554), or a converter down or busy (451). */
  refusedDocument: (
    filename: string,
    code: 'unreadable' | 'too_large' | 'unsupported' | 'timeout' | 'unavailable',
    problem: string,
  ) => {
    if (code === 'unavailable') {
      return smtpReply(
        451,
        '4.3.0',
        `${filename} cannot be converted right now: ${problem}; please try again later`,
        'unavailable',
      );
    }
    if (code === 'unsupported')
      return smtpReply(550, '5.6.0', `${filename} ${problem}`, 'unsupported_document');
    return smtpReply(554, '5.6.0', `${filename} ${problem}`, 'bad_pdf');
  },
  /** The client went away, or was cut off, in the middle of DATA. */
  incomplete: () =>
    smtpReply(451, '4.4.2', 'The message did not arrive in full; please send it again', 'other'),
  badMime: (why: string) => smtpReply(554, '5.6.0', `The message could not be read: ${why}`, 'bad_mime'),
  /** The process reading the message stopped for a reason that is not this message (documents/mimeReaders). */
  readerUnavailable: () =>
    smtpReply(451, '4.3.0', 'The message could not be read right now; please try again later', 'unavailable'),
  unavailable: (what: string) =>
    smtpReply(451, '4.3.0', `${what} is unavailable right now; please try again later`, 'unavailable'),
  queued: (jobs: Array<{ id: string; to: string }>) =>
    `2.0.0 Queued ${jobs.map((j) => `${j.id} ${j.to}`).join(', ')}`,
};
