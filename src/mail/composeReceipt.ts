/**
 * Receipts to the sender of an email→fax job (docs/behaviour.md §6). Pure: the same input always gives the
 * same mail, Message-ID included, so the durable outbox can compose again after a crash and resend safely.
 */
import { describeFailure } from '../domain/failureReasons.js';
import { parseSubjectTags } from '../domain/subjectTags.js';
import { formatBytes } from '../lib/units.js';
import { formatDuration, formatFields, formatTime, pluralize } from './formatTimes.js';
import type { OutgoingMail } from './mailer.js';
import {
  autoHeaders,
  envelopeAddress,
  FOOTER,
  formatMailbox,
  makeMessageId,
  previewAttachment,
  previewHtml,
  safeFilename,
  threading,
} from './mailParts.js';
import { pickSubject, renderTemplate, type SubjectTemplates, toHeaderText } from './templates.js';

export { composeInboundFailure, composeInboundFax } from './composeInbound.js';
export type { OutgoingMail } from './mailer.js';

export interface AttemptSummary {
  attempt: number;
  startedAt: Date;
  endedAt: Date | null;
  outcome: 'delivered' | 'failed' | 'unknown';
  failureReason?: string | null;
  pages?: number | null;
  durationSecs?: number | null;
}

export interface ReceiptInput {
  kind: 'accepted' | 'delivered' | 'failed';
  jobId: string;
  /** E.164 */
  to: string;
  sender: { address: string; name?: string };
  /** Pages in the document. */
  pages: number;
  /** Pages Telnyx reports as transferred (`page_count` on fax.delivered). */
  pagesSent?: number | null;
  durationSecs?: number | null;
  acceptedAt: Date;
  finishedAt?: Date | null;
  attempts: AttemptSummary[];
  failureReason?: string | null;
  /** E.g. Telnyx API error detail, or the 'outcome unknown' text. */
  failureDetail?: string | null;
  original: { messageId: string | null; references: string[]; subject: string | null };
  /** Failed receipts: attached when `path` is given, else linked. */
  document?: { filename: string; path?: string; link?: string; size: number };
  timezone: string;
  /** `mail.from` */
  from: string;
  /** Host part of the Message-ID. */
  domain: string;
  /** Configured subject templates; defaults from templates.ts. */
  subjects?: Partial<SubjectTemplates>;
  /** Delivered receipts: the first transmitted page (PNG), shown inline as proof of what the recipient got. */
  preview?: Buffer | null;
}

/** Subject and body for one receipt kind; the headers are the same for all three. */
export function composeReceipt(input: ReceiptInput): OutgoingMail {
  const description = input.kind === 'failed' ? describeFailure(input.failureReason) : null;
  const subject = renderTemplate(pickSubject(input.subjects, input.kind), {
    to: input.to,
    job: input.jobId,
    pages: pluralize(subjectPages(input), 'page'),
    reason: description?.short ?? '',
    code: input.failureReason ?? '',
  });
  const attachment = input.kind === 'failed' ? documentAttachment(input.document) : null;
  const text = receiptBody(input, attachment !== null);
  const preview = input.kind === 'delivered' && input.preview ? input.preview : null;
  return {
    from: input.from,
    to: [formatMailbox(input.sender.address, input.sender.name)],
    envelopeFrom: envelopeAddress(input.from),
    subject,
    text,
    ...(preview ? { html: previewHtml(text, 'The first page as the recipient received it:') } : {}),
    messageId: makeMessageId(`receipt-${input.kind}-${input.jobId}`, input.domain, input.from),
    headers: { ...autoHeaders('auto-replied'), 'X-Faxbridge-Job': toHeaderText(input.jobId) },
    ...threading(input.original),
    attachments: [...(attachment ? [attachment] : []), ...(preview ? [previewAttachment(preview)] : [])],
  };
}

/** A delivered subject counts what Telnyx transferred; the body says "delivered N of M" when it is short. */
function subjectPages(input: ReceiptInput): number {
  if (input.kind === 'delivered' && input.pagesSent && input.pagesSent > 0) return input.pagesSent;
  return input.pages;
}

function documentAttachment(document: ReceiptInput['document']): OutgoingMail['attachments'][number] | null {
  if (!document?.path) return null;
  return {
    filename: pdfFilename(safeFilename(document.filename, 'document.pdf')),
    path: document.path,
    contentType: 'application/pdf',
  };
}

/**
 * The stored document is always a PDF, but carries the names the sender attached (`Letter.docx`, or
 * `IMG_2041.HEIC + scan.tif` for several): the attachment gets a name a mail client opens as a PDF.
 */
function pdfFilename(name: string): string {
  if (/\.pdf$/i.test(name)) return name;
  if (name.includes(' + ')) return 'document.pdf';
  return `${name.replace(/\.[A-Za-z0-9]{1,5}$/, '')}.pdf`;
}

function receiptBody(input: ReceiptInput, attached: boolean): string {
  const sections = [headline(input), ...outcomeSections(input), detailFields(input), attemptLines(input)];
  if (input.kind === 'failed') sections.push(documentSection(input, attached));
  // Shown as the cover page shows it: without the [cover], [nocover], [fine] and [photo] tags.
  const shownSubject = parseSubjectTags(input.original.subject).shown;
  if (shownSubject) sections.push(`Your email: "${toHeaderText(shownSubject)}"`);
  sections.push(FOOTER);
  return `${sections.filter(Boolean).join('\n\n')}\n`;
}

function headline(input: ReceiptInput): string {
  if (input.kind === 'accepted') return `Your fax to ${input.to} has been accepted and will be sent shortly.`;
  if (input.kind === 'delivered') return `Your fax to ${input.to} was delivered.`;
  return `Your fax to ${input.to} could not be delivered: ${describeFailure(input.failureReason).short}.`;
}

/** The partial-delivery note, or for a failure the reason in plain words and what to do. */
function outcomeSections(input: ReceiptInput): string[] {
  if (input.kind === 'delivered' && isShort(input)) {
    return [
      `The fax service delivered ${input.pagesSent} of ${pluralize(input.pages, 'page')}: the receiving ` +
        'machine took fewer pages than the document has. Check with the recipient that nothing is missing.',
    ];
  }
  if (input.kind !== 'failed') return [];
  const { explanation, advice } = describeFailure(input.failureReason);
  const detail = input.failureDetail ? toHeaderText(input.failureDetail) : '';
  return [explanation, `What to do: ${advice}`, detail ? `Detail from the fax service: ${detail}` : ''];
}

function isShort(input: ReceiptInput): boolean {
  return typeof input.pagesSent === 'number' && input.pagesSent >= 0 && input.pagesSent < input.pages;
}

function detailFields(input: ReceiptInput): string {
  const tz = input.timezone;
  const pages =
    input.kind === 'delivered' && isShort(input)
      ? `delivered ${input.pagesSent} of ${pluralize(input.pages, 'page')}`
      : pluralize(input.pages, 'page');
  const finishedLabel = input.kind === 'delivered' ? 'Delivered' : 'Failed';
  return formatFields([
    ['To', input.to],
    ['Pages', pages],
    ['Duration', typeof input.durationSecs === 'number' ? formatDuration(input.durationSecs) : null],
    ['Accepted', formatTime(input.acceptedAt, tz)],
    [finishedLabel, input.kind !== 'accepted' && input.finishedAt ? formatTime(input.finishedAt, tz) : null],
    ['Reason code', input.kind === 'failed' ? (input.failureReason ?? 'none given') : null],
    ['Job', input.jobId],
  ]);
}

function attemptLines(input: ReceiptInput): string {
  if (input.attempts.length === 0) {
    return input.kind === 'failed' ? 'Attempts: none; the fax was never placed.' : '';
  }
  const lines = [...input.attempts]
    .sort((a, b) => a.attempt - b.attempt)
    .map((a) => `  ${a.attempt}. ${formatTime(a.startedAt, input.timezone)}: ${attemptOutcome(a)}`);
  return [`Attempts (${input.attempts.length}):`, ...lines].join('\n');
}

function attemptOutcome(attempt: AttemptSummary): string {
  const duration =
    typeof attempt.durationSecs === 'number' ? ` in ${formatDuration(attempt.durationSecs)}` : '';
  if (attempt.outcome === 'delivered') {
    const pages = typeof attempt.pages === 'number' ? `, ${pluralize(attempt.pages, 'page')}` : '';
    return `delivered${pages}${duration}`;
  }
  if (attempt.outcome === 'failed') {
    const code = attempt.failureReason ? ` (${toHeaderText(attempt.failureReason)})` : '';
    return `failed, ${describeFailure(attempt.failureReason).short}${code}`;
  }
  return attempt.endedAt ? 'outcome unknown' : 'in progress, no result reported';
}

function documentSection(input: ReceiptInput, attached: boolean): string {
  const doc = input.document;
  if (!doc) return 'Your document is not stored any more; send it again from your own copy.';
  const name = `${safeFilename(doc.filename, 'document.pdf')} (${formatBytes(doc.size)})`;
  if (attached) return `Your document ${name} is attached, ready to send again.`;
  if (doc.link) {
    return `Your document ${name} is too large to attach; download it here to send it again:\n${doc.link}`;
  }
  return `Your document ${name} could not be attached; send it again from your own copy.`;
}
