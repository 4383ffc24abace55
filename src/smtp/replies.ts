/**
 * SMTP replies with our own enhanced status codes (RFC 3463). smtp-server turns an Error with `responseCode`
 * into the reply; without one it answers 450 from onData (node-stack.md §2), so every refusal goes through here.
 */
export interface SmtpReplyError extends Error {
  responseCode: number;
}

export function smtpReply(code: number, enhanced: string, text: string): SmtpReplyError {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}

export const replies = {
  clientNotAllowed: (address: string) =>
    smtpReply(554, '5.7.1', `Your address ${address} may not use this fax gateway`),
  relayDenied: (domain: string) =>
    smtpReply(550, '5.7.1', `Relaying denied: ${domain} is not a fax domain of this gateway`),
  badNumber: (reason: string) => smtpReply(550, '5.1.1', reason),
  tooManyRecipients: (max: number) =>
    smtpReply(452, '4.5.3', `Too many fax recipients; at most ${max} per message, send the rest separately`),
  nullSender: () =>
    smtpReply(550, '5.7.1', 'A fax needs a sender to report back to; the null sender cannot fax'),
  senderNotAllowed: (address: string) => smtpReply(550, '5.7.1', `${address} is not allowed to send faxes`),
  badFromHeader: (why: string) => smtpReply(550, '5.7.1', why),
  tooLarge: (max: string) => smtpReply(552, '5.3.4', `Message too large for fax; the limit is ${max}`),
  noPdf: (found: string) => smtpReply(550, '5.6.0', `No PDF document found in the message (${found})`),
  badPdf: (filename: string, problem: string) => smtpReply(554, '5.6.0', `${filename} ${problem}`),
  badMime: (why: string) => smtpReply(554, '5.6.0', `The message could not be read: ${why}`),
  unavailable: (what: string) =>
    smtpReply(451, '4.3.0', `${what} is unavailable right now; please try again later`),
  queued: (jobs: Array<{ id: string; to: string }>) =>
    `2.0.0 Queued ${jobs.map((j) => `${j.id} ${j.to}`).join(', ')}`,
};
