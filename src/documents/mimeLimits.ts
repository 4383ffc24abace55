import type { MailParserOptions } from 'mailparser';

import { FaxError } from '../errors.js';
import { formatBytes } from '../lib/units.js';
import type { ExtractLimits } from './extractLimits.js';

/**
 * mailparser options for faxbridge: bounded, and without the text conversions only a mail client needs. Text and
 * HTML bodies are still collected by mailparser (it has no switch for that); the SMTP size limit bounds them.
 */
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
