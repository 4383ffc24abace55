/**
 * Emails for received faxes (docs/behaviour.md §7): the fax itself in attach/link/notice mode, and the notice
 * that an incoming fax failed. Pure; Message-IDs come from the fax id and the recipient set (and a console
 * re-send's own id), so a retry after a crash repeats the same id and a second route set or a re-send gets its own.
 */
import { describeFailure } from '../domain/failureReasons.js';
import { formatBytes } from '../lib/units.js';
import { formatDuration, formatFields, formatTime, pluralize } from './formatTimes.js';
import type { OutgoingMail } from './mailer.js';
import {
  autoHeaders,
  E164,
  envelopeAddress,
  FOOTER,
  makeMessageId,
  previewAttachment,
  previewHtml,
  recipientSetHash,
  safeFilename,
} from './mailParts.js';
import { pickSubject, renderTemplate, type SubjectTemplates, toHeaderText } from './templates.js';

interface InboundCommon {
  faxId: string;
  /** The caller as Telnyx reported it: not always E.164 (anonymous, short codes, SIP URIs). */
  caller: string | null;
  /** The called number, one of ours. */
  called: string;
  recipients: string[];
  /** No route matched the called number, so this goes to `admin` (docs/behaviour.md §7). */
  unrouted?: boolean;
  timezone: string;
  /** `mail.from` */
  from: string;
  /** Host part of the Message-ID. */
  domain: string;
  subjects?: Partial<SubjectTemplates>;
  /** Sent again on request (the web console): `id` makes the Message-ID its own, `by` asked at `at`. */
  resend?: { id: string; by: string; at: Date };
}

export interface InboundFaxInput extends InboundCommon {
  pages: number | null;
  partial: boolean;
  receivedAt: Date;
  durationSecs?: number | null;
  mode: 'attach' | 'link' | 'notice';
  /** `path` is the downloaded PDF; `link` an HMAC-signed download link. */
  document?: { filename: string; path?: string; link?: string; size: number; linkExpiresAt?: Date | null };
  /** `mail.max_attachment_size` in bytes. */
  maxAttachmentSize: number;
  /** The fax's first page (PNG), shown inline above the document in attach and link modes. */
  preview?: Buffer | null;
}

export interface InboundFailureInput extends InboundCommon {
  failureReason?: string | null;
  failureDetail?: string | null;
  failedAt: Date;
}

type Attachment = OutgoingMail['attachments'][number];

export function composeInboundFax(input: InboundFaxInput): OutgoingMail {
  const caller = describeCaller(input.caller);
  const subject = renderTemplate(pickSubject(input.subjects, 'inbound'), {
    from: caller.subject,
    to: input.called,
    pages: typeof input.pages === 'number' ? pluralize(input.pages, 'page') : 'page count unknown',
    partial: input.partial ? ' [partial]' : '',
  });
  const { attachment, text: documentText } = chooseDelivery(input);
  const sections = [
    `You have received a fax from ${caller.body} on ${input.called}.`,
    input.resend
      ? `This is a copy sent again by ${toHeaderText(input.resend.by)} from the web console on ${formatTime(input.resend.at, input.timezone)}.`
      : '',
    input.partial
      ? 'This fax is partial: the call ended before every page arrived, so pages may be missing. ' +
        'If you know the sender, ask them to send it again.'
      : '',
    unroutedNote(input),
    formatFields([
      ['From', caller.body],
      ['To', input.called],
      ['Pages', typeof input.pages === 'number' ? pluralize(input.pages, 'page') : 'unknown'],
      ['Duration', typeof input.durationSecs === 'number' ? formatDuration(input.durationSecs) : null],
      ['Received', formatTime(input.receivedAt, input.timezone)],
      ['Fax id', input.faxId],
    ]),
    documentText,
  ];
  const preview = input.mode !== 'notice' && input.preview ? input.preview : null;
  const mail = inboundMail(input, 'fax', subject, sections, [
    ...(attachment ? [attachment] : []),
    ...(preview ? [previewAttachment(preview)] : []),
  ]);
  return preview ? { ...mail, html: previewHtml(mail.text, 'The first page of the fax:') } : mail;
}

export function composeInboundFailure(input: InboundFailureInput): OutgoingMail {
  const caller = describeCaller(input.caller);
  const { short, explanation } = describeFailure(input.failureReason);
  const subject = renderTemplate(pickSubject(input.subjects, 'inboundFailed'), {
    from: caller.subject,
    to: input.called,
    reason: short,
    code: input.failureReason ?? '',
  });
  const detail = input.failureDetail ? toHeaderText(input.failureDetail) : '';
  const sections = [
    `A fax from ${caller.body} to ${input.called} could not be received: ${short}.`,
    explanation,
    'Nothing was received. If you were expecting this fax, ask the sender to send it again.',
    detail ? `Detail from the fax service: ${detail}` : '',
    unroutedNote(input),
    formatFields([
      ['From', caller.body],
      ['To', input.called],
      ['Failed', formatTime(input.failedAt, input.timezone)],
      ['Reason code', input.failureReason ?? 'none given'],
      ['Fax id', input.faxId],
    ]),
  ];
  return inboundMail(input, 'fax-failed', subject, sections, []);
}

function inboundMail(
  input: InboundCommon,
  idPrefix: string,
  subject: string,
  sections: string[],
  attachments: Attachment[],
): OutgoingMail {
  const resent = input.resend ? `-resent-${input.resend.id}` : '';
  const localPart = `${idPrefix}-${input.faxId}-${recipientSetHash(input.recipients)}${resent}`;
  return {
    from: input.from,
    to: [...new Set(input.recipients)],
    envelopeFrom: envelopeAddress(input.from),
    subject,
    text: `${[...sections, FOOTER].filter(Boolean).join('\n\n')}\n`,
    messageId: makeMessageId(localPart, input.domain, input.from),
    headers: { ...autoHeaders('auto-generated'), 'X-Faxbridge-Fax': toHeaderText(input.faxId) },
    attachments,
  };
}

/** Subject shows `+E164` or `unknown caller`; the body always shows the raw value Telnyx gave. */
function describeCaller(raw: string | null): { subject: string; body: string } {
  const value = raw ? toHeaderText(raw) : '';
  if (E164.test(value)) return { subject: value, body: value };
  return {
    subject: 'unknown caller',
    body: value ? `an unknown caller (reported as "${value}")` : 'an unknown caller (no number given)',
  };
}

function unroutedNote(input: InboundCommon): string {
  if (!input.unrouted) return '';
  return (
    `No inbound route matches ${input.called}, so this was sent to the administrators. ` +
    `Add a route for ${input.called} (or a "*" route) to deliver such faxes to the right people.`
  );
}

/** Attach, link or notice, with the fallbacks docs/behaviour.md §7 asks for; never silently without the fax. */
function chooseDelivery(input: InboundFaxInput): { attachment: Attachment | null; text: string } {
  const doc = input.document;
  const keptAs = `It is kept in faxbridge as fax ${input.faxId}; ask your administrator if you need it.`;
  if (input.mode === 'notice') {
    return {
      attachment: null,
      text: `The document is not sent by email for this number (notice only). ${keptAs}`,
    };
  }
  if (!doc) return { attachment: null, text: `The document could not be included in this email. ${keptAs}` };
  const name = `${safeFilename(doc.filename, `fax-${input.faxId}.pdf`)} (${formatBytes(doc.size)})`;
  const fits = doc.path !== undefined && doc.size <= input.maxAttachmentSize;
  const attachment: Attachment | null = fits
    ? {
        filename: safeFilename(doc.filename, `fax-${input.faxId}.pdf`),
        path: doc.path!,
        contentType: 'application/pdf',
      }
    : null;
  const until = doc.linkExpiresAt
    ? ` The link is valid until ${formatTime(doc.linkExpiresAt, input.timezone)}.`
    : '';
  if (input.mode === 'link' && doc.link) {
    return { attachment: null, text: `Download the fax ${name} here:\n${doc.link}\n${until.trim()}`.trim() };
  }
  if (attachment) {
    const note = input.mode === 'link' ? ' (no download link could be made, so it is attached instead)' : '';
    return { attachment, text: `The fax is attached as ${name}${note}.` };
  }
  const why =
    doc.size > input.maxAttachmentSize
      ? `The fax ${name} is larger than the ${formatBytes(input.maxAttachmentSize)} attachment limit, so it is not attached.`
      : `The fax ${name} could not be attached.`;
  if (doc.link)
    return { attachment: null, text: `${why} Download it here:\n${doc.link}\n${until.trim()}`.trim() };
  return { attachment: null, text: `${why} ${keptAs}` };
}
