import type { HeaderLines, Headers } from 'mailparser';

/** The top-level header fields faxbridge acts on: who sent it, and what to thread receipts onto. */
export interface MessageHeaderFields {
  /** The header From when it names exactly one valid mailbox; null otherwise (see `fromCount`). */
  from: { address: string; name: string } | null;
  /** Mailboxes over all From headers, groups flattened. Anything but 1 means the sender cannot be trusted. */
  fromCount: number;
  messageId: string | null;
  subject: string | null;
  inReplyTo: string | null;
  references: string[];
  date: Date | null;
  /** To and Cc mailboxes with their display names, for the cover page's "to" line. */
  recipients: Array<{ address: string; name: string }>;
}

/** A plain addr-spec check: something@something with no spaces. Deliverability is not ours to judge here. */
const MAILBOX = /^[^\s@]+@[^\s@]+$/;

/**
 * Reads the header fields from what mailparser collected. The raw lines are used where mailparser's parsed view
 * hides something we need to see:
 * - mailparser keeps only the first of several From headers; a second From is a known spoofing trick, so every
 *   From line is counted, and the sender is then unknown (fail closed rather than trust the first).
 * - mailparser turns an unreadable Date into "now"; we say null instead.
 * - mailparser decodes punycode domains to Unicode; senders are matched and replied to in the ASCII form the
 *   SMTP envelope uses, so the raw From is parsed again with `decodePunycode: false`.
 */
export async function readHeaderFields(
  headers: Headers | false,
  headerLines: HeaderLines | false,
): Promise<MessageHeaderFields> {
  // Loaded already by the parse that collected these headers (mimeLimits.ts loads mailparser on first use).
  const { parseAddressHeader } = await import('mailparser');
  const lines = headerLines || [];
  const fromValues = lines.filter((line) => line.key === 'from').map((line) => headerValue(line.line));
  const mailboxes = parseAddressHeader(fromValues, { flatten: true, decodePunycode: false }).value;
  const only = mailboxes.length === 1 ? mailboxes[0] : undefined;
  const address = only?.address?.trim() ?? '';

  const parsed = headers || new Map<string, unknown>();
  const dateLine = lines.find((line) => line.key === 'date');
  const date = dateLine ? new Date(headerValue(dateLine.line)) : null;

  return {
    from: only && MAILBOX.test(address) ? { address, name: only.name ?? '' } : null,
    fromCount: mailboxes.length,
    messageId: asString(parsed.get('message-id')),
    subject: asString(parsed.get('subject')),
    inReplyTo: asString(parsed.get('in-reply-to')),
    references: asStringList(parsed.get('references')),
    date: date && !Number.isNaN(date.getTime()) ? date : null,
    recipients: [...addressList(parsed.get('to')), ...addressList(parsed.get('cc'))],
  };
}

/**
 * The value of a raw header line: the name and colon removed, folding undone. mailsplit keeps header bytes as
 * latin1 ("binary") strings; raw UTF-8 in headers (RFC 6532) is turned back into text the way mailparser does it.
 */
function headerValue(line: string): string {
  const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '');
  return Buffer.from(value, 'latin1').toString('utf8').trim();
}

/** mailparser's AddressObject (or a list of them, for repeated headers), groups flattened. */
function addressList(value: unknown): Array<{ address: string; name: string }> {
  type Entry = { address?: string; name?: string; group?: Entry[] };
  const objects = (Array.isArray(value) ? value : [value]) as Array<{ value?: Entry[] } | undefined>;
  const flat = (entries: Entry[]): Entry[] =>
    entries.flatMap((entry) => (entry.group ? flat(entry.group) : [entry]));
  return objects
    .flatMap((object) => flat(object?.value ?? []))
    .filter((entry) => typeof entry.address === 'string' && entry.address.length > 0)
    .map((entry) => ({ address: entry.address!, name: entry.name ?? '' }));
}

function asString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function asStringList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0);
}
