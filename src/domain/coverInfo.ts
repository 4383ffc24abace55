import { coverComments } from './coverComments.js';

/** What a cover page needs from the mail and nothing else keeps: stored with the message (`cover_json`). */
export interface CoverInfo {
  /** The body as comments: quoted reply and signature removed, bounded in length. */
  comments: string;
  /** Display names from the To and Cc headers, by the E.164 number their address stands for. */
  names: Record<string, string>;
}

/**
 * Matches the To/Cc mailboxes to the fax numbers of the envelope: `Dr. Smith <+1 555 765 4321@fax.example.com>`
 * names +15557654321. `toNumber` reads a local part as a number the way RCPT does (null when it is none).
 */
export function makeCoverInfo(
  body: string | null,
  recipients: ReadonlyArray<{ address: string; name: string }>,
  numbers: readonly string[],
  toNumber: (localPart: string) => string | null,
): CoverInfo {
  const names: Record<string, string> = {};
  for (const { address, name } of recipients) {
    const at = address.lastIndexOf('@');
    const number = at > 0 ? toNumber(address.slice(0, at)) : null;
    const shown = name.trim();
    if (number && shown && numbers.includes(number) && !(number in names)) names[number] = shown;
  }
  return { comments: coverComments(body), names };
}

/** The stored JSON read back; anything unreadable counts as nothing known (a cover without comments). */
export function readCoverInfo(json: string | null | undefined): CoverInfo {
  try {
    const parsed = JSON.parse(json ?? 'null') as Partial<CoverInfo> | null;
    return {
      comments: typeof parsed?.comments === 'string' ? parsed.comments : '',
      names: parsed?.names && typeof parsed.names === 'object' ? parsed.names : {},
    };
  } catch {
    return { comments: '', names: {} };
  }
}
