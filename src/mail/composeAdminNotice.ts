/**
 * The admin's notice about an outbound job that needs a person (docs/behaviour.md §4: after 24 hours without
 * a final event the outcome is unknown, "and the admin is told"). Pure; the Message-ID comes from the job, so
 * a resend after a crash repeats it.
 */
import { formatFields, formatTime } from './formatTimes.js';
import type { OutgoingMail } from './mailer.js';
import { autoHeaders, envelopeAddress, FOOTER, makeMessageId } from './mailParts.js';
import { toHeaderText } from './templates.js';

export interface AdminNoticeInput {
  jobId: string;
  to: string;
  sender: string;
  faxId: string | null;
  acceptedAt: Date;
  reason: string;
  admins: string[];
  timezone: string;
  from: string;
  domain: string;
}

const EXPLANATIONS: Record<string, string> = {
  outcome_unknown:
    'Telnyx accepted this fax but never reported how it ended, and asking Telnyx did not tell either. The sender ' +
    'was told the outcome is unknown. Check the fax in the Telnyx portal (Programmable Fax, by fax id) and tell ' +
    'the sender whether it arrived.',
};

export function composeAdminNotice(input: AdminNoticeInput): OutgoingMail {
  const explanation =
    EXPLANATIONS[input.reason] ?? `This fax job needs attention (${toHeaderText(input.reason)}).`;
  const text = [
    explanation,
    formatFields([
      ['Job', input.jobId],
      ['To', input.to],
      ['Sender', input.sender],
      ['Telnyx fax id', input.faxId ?? 'none'],
      ['Accepted', formatTime(input.acceptedAt, input.timezone)],
      ['Reason', input.reason],
    ]),
    FOOTER,
  ].join('\n\n');
  return {
    from: input.from,
    to: [...new Set(input.admins)],
    envelopeFrom: envelopeAddress(input.from),
    subject: toHeaderText(
      `Fax job ${input.jobId} to ${input.to} needs attention: ${input.reason.replace(/_/g, ' ')}`,
    ),
    text: `${text}\n`,
    messageId: makeMessageId(`admin-${input.reason}-${input.jobId}`, input.domain, input.from),
    headers: { ...autoHeaders('auto-generated'), 'X-Faxbridge-Job': toHeaderText(input.jobId) },
    attachments: [],
  };
}
