import { STATUS_CODES } from '../lib/nodeHttp.js';
import { parseRetryAfter, type ResponseHeaders } from './retryAfter.js';
import type { TelnyxApiError, TelnyxOutcome } from './types.js';

/** An outcome that is not `ok`: what every failure path of the client produces. */
export type TelnyxFailure = Exclude<TelnyxOutcome<never>, { kind: 'ok' }>;

/**
 * Errors raised while the socket was still being opened: Telnyx never saw a byte, so sending again cannot
 * duplicate a fax (docs/behaviour.md §4 "refused connections are retried"). Everything else is judged by
 * whether undici had started writing the request (see `transport.ts`).
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const BODY_SNIPPET_CHARS = 200;

/** Collects `code`s along the `cause` chain and inside AggregateErrors (Node's happy-eyeballs connect). */
export function errorCodes(thrown: unknown, seen = new Set<unknown>()): string[] {
  if (thrown === null || typeof thrown !== 'object' || seen.has(thrown)) return [];
  seen.add(thrown);
  const { code, cause, errors } = thrown as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof code === 'string' ? [code] : [];
  const nested = Array.isArray(errors) ? errors.flatMap((e) => errorCodes(e, seen)) : [];
  return [...own, ...errorCodes(cause, seen), ...nested];
}

export interface TransportErrorContext {
  /** `METHOD /path`, for the reason text. */
  call: string;
  /** Whether undici began writing the request to a socket. */
  sent: boolean;
  callerAborted: boolean;
  timedOut: boolean;
  timeoutMs: number;
}

/** Maps a thrown network error to `retry` (Telnyx cannot have acted) or `uncertain` (it may have). */
export function classifyTransportError(thrown: unknown, ctx: TransportErrorContext): TelnyxFailure {
  const codes = errorCodes(thrown);
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const what = ctx.callerAborted
    ? 'aborted by caller'
    : ctx.timedOut
      ? `timed out after ${ctx.timeoutMs} ms`
      : `${codes[0] ?? 'network error'}: ${message}`;
  if (codes.some((code) => NEVER_SENT_CODES.has(code)) || !ctx.sent) {
    return {
      kind: 'retry',
      status: null,
      retryAfterMs: null,
      reason: `${ctx.call} ${what} (request not sent)`,
    };
  }
  return { kind: 'uncertain', status: null, reason: `${ctx.call} ${what} (after the request was sent)` };
}

/** Reads Telnyx's `{ errors: [...] }` envelope; null when the body is not one (HTML from a proxy, empty, …). */
export function parseErrorEnvelope(text: string): TelnyxApiError[] | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const list = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list) || list.length === 0) return null;
  const errors = list
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
    .map((e) => {
      // SPEC types `code` as a string, but older responses carry numbers; normalise so callers can compare.
      const error: TelnyxApiError = { code: String(e.code ?? ''), title: String(e.title ?? '') };
      if (typeof e.detail === 'string') error.detail = e.detail;
      const source = e.source as { pointer?: unknown; parameter?: unknown } | undefined;
      if (source && typeof source === 'object') {
        error.source = {};
        if (typeof source.pointer === 'string') error.source.pointer = source.pointer;
        if (typeof source.parameter === 'string') error.source.parameter = source.parameter;
      }
      return error;
    });
  return errors.length > 0 ? errors : null;
}

/** "Title: detail" per error, joined; what a failure receipt quotes to the sender. */
export function describeErrors(errors: TelnyxApiError[]): string {
  return errors
    .map((e) => {
      const title = e.title || `error ${e.code}`;
      return e.detail && e.detail !== e.title ? `${title}: ${e.detail}` : title;
    })
    .join('; ');
}

function statusLine(status: number, statusText: string): string {
  return `${status} ${statusText || STATUS_CODES[status] || 'HTTP error'}`;
}

/** Telnyx's own words when the body is its envelope, else the start of whatever came back (HTML from a proxy). */
function bodyDetail(text: string): string {
  const errors = parseErrorEnvelope(text);
  return errors ? describeErrors(errors) : text.trim().slice(0, BODY_SNIPPET_CHARS);
}

/** Maps a non-2xx response to its outcome (docs/behaviour.md §4). */
export function classifyHttpStatus(
  call: string,
  response: { status: number; statusText: string; headers: ResponseHeaders; text: string },
  nowMs: number = Date.now(),
): TelnyxFailure {
  const { status, statusText, headers, text } = response;
  const detail = bodyDetail(text);
  const line = statusLine(status, statusText);
  if (status === 429) {
    const reason = `${call} rate limited (${line})${detail ? `: ${detail}` : ''}`;
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(headers, nowMs), reason };
  }
  if (status >= 400 && status < 500 && status !== 408) {
    const errors = parseErrorEnvelope(text) ?? [];
    // With an envelope, Telnyx's sentence is the whole story; otherwise the status says what kind of refusal.
    return {
      kind: 'rejected',
      status,
      errors,
      detail: errors.length ? detail : detail ? `${line}: ${detail}` : line,
    };
  }
  // 408, 5xx, and anything odd (a 3xx from a proxy): Telnyx may have acted on the request.
  return { kind: 'uncertain', status, reason: `${call} answered ${line}${detail ? `: ${detail}` : ''}` };
}
