/*
 * The message body is never faxed, but a cover page shows it as comments. So the first plain-text (or, failing
 * that, HTML) body of the message itself is read through with only its start kept: enough for one cover page,
 * never the whole of a body that may be tens of megabytes.
 */

/** More than a cover page can show (about 60 lines of 90 characters), with room for quoted text cut later. */
export const BODY_TEXT_KEEP_BYTES = 32 * 1024;

export interface BodyPart {
  contentType: string;
  /** mailparser's parsed Content-Type header: `{value, params: {charset}}`. */
  headers?: Map<string, unknown>;
  content: AsyncIterable<Buffer>;
}

/** Reads the whole part, keeps its first bytes, and returns them as text (HTML reduced to its words). */
export async function readBodyText(part: BodyPart, keepBytes = BODY_TEXT_KEEP_BYTES): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  for await (const chunk of part.content) {
    if (keptBytes >= keepBytes) continue; // drained, not kept
    const slice = chunk.subarray(0, keepBytes - keptBytes);
    kept.push(slice);
    keptBytes += slice.length;
  }
  const text = decode(Buffer.concat(kept), charsetOf(part.headers));
  return part.contentType.toLowerCase() === 'text/html' ? htmlToText(text) : text;
}

function charsetOf(headers: Map<string, unknown> | undefined): string {
  const type = headers?.get('content-type') as { params?: { charset?: string } } | undefined;
  return type?.params?.charset ?? 'utf-8';
}

function decode(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    // An unknown charset label: UTF-8 shows most of it, and a replacement character shows the rest.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Enough HTML handling for comments on a cover page: line breaks kept, tags and entities of markup dropped. */
function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6])>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
