import type { MailParser, MailParserOptions } from 'mailparser';

import { FaxError } from '../errors.js';
import { formatBytes } from '../lib/units.js';
import type { ExtractLimits } from './extractLimits.js';

/**
 * A mailparser for faxbridge: bounded, and without keeping the message's text and HTML bodies. The body is never
 * faxed, and mailparser would otherwise collect each body whole, three times over while joining it (measured:
 * ten 69 MB bodies took the daemon to 1.16 GB). mailparser has no switch for that; its list of "text types" is
 * what makes a part a body, so with the list emptied every body arrives as an attachment stream, which
 * `isMessageBody` recognises and extraction drains without keeping.
 *
 * mailparser (with its HTML and charset libraries, ~15 MB of RSS) is loaded by the first message, not at start.
 */
export async function makeMailParser(limits: ExtractLimits): Promise<MailParser> {
  const { MailParser } = await import('mailparser');
  const parser = new MailParser(makeParserOptions(limits));
  // Not in mailparser's typings (an instance field set by its constructor, read for every part); pinned version.
  (parser as unknown as { textTypes: string[] }).textTypes = [];
  return parser;
}

/**
 * What mailparser would have treated as a body: text, HTML or a delivery status, not marked as an attachment. A
 * plain-text part with a file name is a text file the sender attached (some clients mark those inline).
 */
export function isMessageBody(part: {
  contentType: string;
  contentDisposition?: string;
  filename?: string;
}): boolean {
  const type = part.contentType.toLowerCase();
  if (type !== 'text/plain' && type !== 'text/html' && type !== 'message/delivery-status') return false;
  if (type === 'text/plain' && part.filename) return false;
  const disposition = part.contentDisposition?.toLowerCase();
  return disposition === undefined || disposition === 'inline';
}

/** mailparser options: bounded, and without the text conversions only a mail client needs. */
export function makeParserOptions(limits: ExtractLimits): MailParserOptions {
  return {
    // We take our own SHA-256 on the way to disk; mailparser's md5 would be a second pass over every byte.
    checksumAlgo: false,
    maxHeadSize: limits.maxHeaderSize,
    // mailsplit counts every node, multipart containers and text bodies included, so it gets room beyond the
    // attachment count; it is the backstop against a tree of empty parts, ours counts attachments exactly.
    maxChildNodes: limits.maxParts * 4 + 16,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  };
}

/**
 * Turns a mailparser/mailsplit failure into the one error the caller acts on: the message cannot be read, so the
 * SMTP edge refuses it (554 5.6.0) rather than retrying. mailsplit tags its limit errors with code EMAXLEN.
 */
export function toMimeError(error: Error, limits: ExtractLimits): FaxError {
  const code = (error as NodeJS.ErrnoException).code;
  let detail = 'its MIME structure is broken';
  if (code === 'EMAXLEN' && /header/i.test(error.message)) {
    detail = `a MIME header is larger than ${formatBytes(limits.maxHeaderSize)}`;
  } else if (code === 'EMAXLEN' && /child nodes/i.test(error.message)) {
    detail = `it has more than ${limits.maxParts * 4 + 16} MIME parts`;
  }
  return badMessage(detail, error);
}

export function tooManyParts(limits: ExtractLimits): FaxError {
  return badMessage(`it has more than ${limits.maxParts} attachments (forwarded messages included)`);
}

function badMessage(detail: string, cause?: unknown): FaxError {
  return new FaxError('bad_document', `the message could not be read: ${detail}`, {
    smtpCode: 554,
    enhancedCode: '5.6.0',
    cause,
  });
}
