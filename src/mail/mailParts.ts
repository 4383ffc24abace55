/**
 * Pieces shared by every email faxbridge writes: addresses, deterministic Message-IDs, threading and the
 * headers that keep auto-responders quiet. Pure functions; no clock, no I/O.
 */
import { createHash } from 'node:crypto';

import type parseAddresses from 'nodemailer/lib/addressparser';

import { requireCommonJs } from '../lib/requireCommonJs.js';
import { toHeaderText } from './templates.js';

/** nodemailer's CommonJS build (lib/requireCommonJs.ts says why). */
const addressparser = requireCommonJs('nodemailer/lib/addressparser') as typeof parseAddresses;

/** E.164 as docs/behaviour.md §3 accepts it: `+` and 8–15 digits. */
export const E164 = /^\+\d{8,15}$/;

/**
 * RFC 3834 §5: `auto-replied` for receipts (they answer the sender's message), `auto-generated` for
 * received faxes. `X-Auto-Response-Suppress` stops Exchange out-of-office replies to them, which would
 * otherwise come back to `mail.from` as mail to record.
 */
export function autoHeaders(kind: 'auto-replied' | 'auto-generated'): Record<string, string> {
  return { 'Auto-Submitted': kind, 'X-Auto-Response-Suppress': 'All' };
}

/** The bare address inside `mail.from` (`Fax <fax@x>` → `fax@x`), used as the envelope sender (§6). */
export function envelopeAddress(from: string): string {
  const [first] = addressparser(from, { flatten: true });
  const address = first?.address?.trim();
  if (!address || !/^[^\s@<>]+@[^\s@<>]+$/.test(address)) {
    throw new Error(`mail.from has no usable address: ${JSON.stringify(from)}`);
  }
  return address;
}

/** The host part for Message-IDs: the configured domain, else the domain of `mail.from`. */
function messageIdHost(domain: string, from: string): string {
  const host = domain.replace(/[^A-Za-z0-9.-]/g, '');
  if (host) return host;
  return (
    envelopeAddress(from)
      .split('@')[1]!
      .replace(/[^A-Za-z0-9.-]/g, '') || 'faxbridge.invalid'
  );
}

/**
 * `<local@host>` from ids we chose: a resend after a crash composes the same id, so the recipient's mail
 * system can drop the duplicate (docs/behaviour.md §4 "a duplicate after a crash carries the same
 * Message-ID").
 */
export function makeMessageId(localPart: string, domain: string, from: string): string {
  const local = localPart.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
  return `<${local}@${messageIdHost(domain, from)}>`;
}

/** A short stable digest of a recipient list, so the same fax sent to two route sets gets two ids. */
export function recipientSetHash(recipients: readonly string[]): string {
  const normalised = [...new Set(recipients.map((r) => r.trim().toLowerCase()))].sort();
  return createHash('sha256').update(normalised.join('\n')).digest('hex').slice(0, 12);
}

/** `"Name" <address>`, or the bare address; the name is quoted (RFC 5322 quoted-string) so commas and `<` stay harmless. */
export function formatMailbox(address: string, name?: string | null): string {
  const cleanName = name ? toHeaderText(name).replace(/(["\\])/g, '\\$1') : '';
  return cleanName ? `"${cleanName}" <${address}>` : address;
}

/** Message-IDs as headers need them: one token in angle brackets, or null when there is nothing usable. */
export function normaliseMessageId(id: string | null | undefined): string | null {
  const bare = id
    ?.trim()
    .replace(/^<+|>+$/g, '')
    .trim();
  return bare && !/[\s<>]/.test(bare) ? `<${bare}>` : null;
}

/**
 * In-Reply-To is the original's Message-ID; References is the original's References plus its Message-ID
 * (RFC 5322 §3.6.4), so mail clients file the receipt under the message that sent the fax.
 */
export function threading(original: { messageId: string | null; references: string[] }): {
  inReplyTo?: string;
  references?: string[];
} {
  const parent = normaliseMessageId(original.messageId);
  const chain = [...original.references.map(normaliseMessageId), parent].filter((id): id is string => !!id);
  const references = [...new Set(chain)];
  return {
    ...(parent ? { inReplyTo: parent } : {}),
    ...(references.length ? { references } : {}),
  };
}

/** A file name safe for a MIME header and any mail client's save dialog. */
export function safeFilename(filename: string, fallback: string): string {
  const clean = toHeaderText(filename.replace(/[/\\]+/g, '_'));
  return clean || fallback;
}

export const FOOTER = '-- \nThis is an automatic message from faxbridge, the office fax gateway.';

/** The Content-ID of the first-page picture shown inline in receipts and received-fax mails. */
export const PREVIEW_CID = 'first-page@faxbridge';

/** An HTML alternative: the plain text as it is, then the first page as a picture with a caption above it. */
export function previewHtml(text: string, caption: string): string {
  const escaped = text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return (
    `<pre style="font-family: inherit; white-space: pre-wrap">${escaped}</pre>\n` +
    `<p>${caption}</p>\n` +
    `<img src="cid:${PREVIEW_CID}" alt="First page of the fax" style="max-width: 100%; border: 1px solid #888">\n`
  );
}

/** The first-page picture as an inline attachment (referenced from the HTML by PREVIEW_CID). */
export function previewAttachment(png: Buffer): {
  filename: string;
  content: Buffer;
  contentType: string;
  cid: string;
} {
  return { filename: 'first-page.png', content: png, contentType: 'image/png', cid: PREVIEW_CID };
}
