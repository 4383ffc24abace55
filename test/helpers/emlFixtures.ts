import type { Readable } from 'node:stream';

import MailComposer, {
  type MailComposerAttachment,
  type MailComposerOptions,
} from 'nodemailer/lib/mail-composer';

/**
 * Real MIME messages for tests, built by nodemailer's MailComposer (the same code that writes our outgoing mail),
 * so the parser sees what mail clients send: base64 parts, RFC 2231 names, multipart/related for cid images.
 */
export type EmlOptions = MailComposerOptions;

const BASE_MESSAGE: MailComposerOptions = {
  from: 'Alice Example <alice@example.com>',
  to: '+15550001111@fax.example.com',
  subject: 'Fax test',
  messageId: '<test-1@example.com>',
  date: new Date('2026-11-27T10:00:00Z'),
  text: 'Please fax the attached document.',
};

/** The message as a stream, generated while it is read, as an SMTP DATA stream arrives. */
export function composeEmlStream(options: EmlOptions = {}): Readable {
  return new MailComposer({ ...BASE_MESSAGE, ...options }).compile().createReadStream();
}

export async function composeEml(options: EmlOptions = {}): Promise<Buffer> {
  return new MailComposer({ ...BASE_MESSAGE, ...options }).compile().build();
}

export function pdfAttachment(
  content: Buffer | Readable,
  filename: string | false = 'document.pdf',
): MailComposerAttachment {
  return { filename, content, contentType: 'application/pdf' };
}

/** A whole message attached as a file, the way "Forward as attachment" does it. */
export function forwardedAttachment(eml: Buffer, filename = 'forwarded.eml'): MailComposerAttachment {
  return { filename, content: eml, contentType: 'message/rfc822', contentDisposition: 'attachment' };
}

/** A 1×1 PNG, enough to be an image part. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
