/**
 * The admin's notice that a received fax could not be downloaded yet (docs/behaviour.md §7: it "retries with
 * backoff and tells the admin"). Pure; the Message-ID comes from the fax id, so a resend after a crash repeats
 * it.
 */
import { formatFields, formatTime } from '../mail/formatTimes.js';
import type { OutgoingMail } from '../mail/mailer.js';
import {
  autoHeaders,
  E164,
  envelopeAddress,
  FOOTER,
  makeMessageId,
  recipientSetHash,
} from '../mail/mailParts.js';
import { toHeaderText } from '../mail/templates.js';

export interface DownloadTroubleInput {
  faxId: string;
  caller: string | null;
  called: string;
  recipients: string[];
  receivedAt: Date;
  attempts: number;
  /** The last download error, in our words (never the media URL). */
  detail: string | null;
  timezone: string;
  from: string;
  domain: string;
}

export function composeDownloadTrouble(input: DownloadTroubleInput): OutgoingMail {
  const rawCaller = input.caller ? toHeaderText(input.caller) : '';
  const caller = E164.test(rawCaller) ? rawCaller : 'unknown caller';
  const sections = [
    `A fax from ${rawCaller || 'an unknown caller'} to ${input.called} was received by Telnyx, but faxbridge ` +
      'could not download it, even after asking Telnyx for a fresh download link.',
    'faxbridge keeps trying with growing pauses and emails the fax to its recipients as soon as the download ' +
      'works. If this lasts, check that this server can reach the Internet (Telnyx media links are on Amazon S3) ' +
      'and that the Telnyx API key is valid.',
    input.detail ? `Last error: ${toHeaderText(input.detail)}` : '',
    formatFields([
      ['From', rawCaller || 'unknown'],
      ['To', input.called],
      ['Received', formatTime(input.receivedAt, input.timezone)],
      ['Download attempts', String(input.attempts)],
      ['Fax id', input.faxId],
    ]),
  ];
  return {
    from: input.from,
    to: [...new Set(input.recipients)],
    envelopeFrom: envelopeAddress(input.from),
    subject: toHeaderText(`Fax from ${caller} to ${input.called} could not be downloaded yet`),
    text: `${[...sections, FOOTER].filter(Boolean).join('\n\n')}\n`,
    messageId: makeMessageId(
      `fax-trouble-${input.faxId}-${recipientSetHash(input.recipients)}`,
      input.domain,
      input.from,
    ),
    headers: { ...autoHeaders('auto-generated'), 'X-Faxbridge-Fax': toHeaderText(input.faxId) },
    attachments: [],
  };
}
