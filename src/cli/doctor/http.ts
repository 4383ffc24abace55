import { type Dispatcher, request } from 'undici';

import { coerceError } from '../../errors.js';
import { SECOND } from '../../lib/units.js';

/** Every probe is a short read; a peer that takes longer than this is as good as unreachable. */
const PROBE_TIMEOUT = 10 * SECOND;
/** Answers doctor reads are small JSON documents; anything bigger is not what was asked for. */
const MAX_BODY_CHARS = 256 * 1024;

export interface ProbeAnswer {
  status: number;
  body: unknown;
  /** The raw text, cut short, for messages. */
  text: string;
}

/**
 * One GET that never throws: an answer (any status) or the reason there was none (refused, timeout,
 * certificate), so each check can turn it into a verdict. Redirects are not followed: Telnyx does not follow
 * them either.
 */
export async function probeGet(
  url: string,
  headers: Record<string, string> = {},
  dispatcher?: Dispatcher,
): Promise<ProbeAnswer | { error: string }> {
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.timeout(PROBE_TIMEOUT),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = (await response.body.text()).slice(0, MAX_BODY_CHARS);
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: response.statusCode, body, text };
  } catch (error) {
    const err = coerceError(error) as Error & { code?: string; cause?: unknown };
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const reason = err.name === 'TimeoutError' ? `no answer within ${PROBE_TIMEOUT / SECOND} s` : err.message;
    return { error: `${reason}${err.code ? ` (${err.code})` : ''}${cause}` };
  }
}

/** The first Telnyx error detail of an answer, for quoting; the status when there is none. */
export function telnyxDetail(answer: ProbeAnswer): string {
  const errors = (answer.body as { errors?: Array<{ detail?: string; title?: string }> } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  return first?.detail ?? first?.title ?? `HTTP ${answer.status}`;
}
