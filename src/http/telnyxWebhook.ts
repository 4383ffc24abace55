import type Koa from 'koa';
import getRawBody from 'raw-body';

import { coerceError } from '../errors.js';
import { MB } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { SignatureVerifier, VerifyFailure } from './verifySignature.js';

/** One Telnyx event as recorded: the `data` fields we route on, plus the whole parsed envelope. */
export interface TelnyxEvent {
  /** `data.id`: the event id, the deduplication key (Telnyx redelivers and duplicates events). */
  id: string;
  /** `data.event_type`, e.g. `fax.delivered`; unknown types are recorded too. */
  eventType: string;
  /** `data.occurred_at` (ISO-8601, µs), used to order events; null when absent. */
  occurredAt: string | null;
  /** `data.payload`, `{}` when absent. */
  payload: Record<string, unknown>;
  /** The whole parsed body, `meta` included, for the audit trail. */
  raw: unknown;
}

export type RecordResult = 'recorded' | 'duplicate';

/** Values for the `faxbridge_webhooks_total{result}` label: one per answer the route can give. */
export type WebhookResult =
  'accepted' | 'duplicate' | VerifyFailure | 'bad_request' | 'too_large' | 'busy' | 'unavailable';

export interface WebhookDeps {
  verify: SignatureVerifier;
  /** Stores the event (idempotent on `id`). Throwing means "cannot record now": Telnyx gets 503 and retries. */
  record: (event: TelnyxEvent) => Promise<RecordResult>;
  /** Slow work, run after the 200 has been sent and only for newly recorded events; errors are logged. */
  afterRecord?: (event: TelnyxEvent) => void;
  log: Logger;
  /** Metrics hook, called once per request with the outcome. */
  onResult?: (result: WebhookResult) => void;
  /** Body bytes all webhook requests being read may hold together (default 32 MB); beyond it, 503. */
  maxInFlightBytes?: number;
}

/** docs/behaviour.md §5: bodies over 1 MB are refused with 413. Fax events are a few hundred bytes. */
const BODY_LIMIT_BYTES = 1 * MB;
/**
 * Bodies of requests whose headers passed are read into memory; this bounds them together, so many slow
 * clients cannot hold a gigabyte. Each request reserves its Content-Length (1 MB when chunked) until read.
 */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * MB;
/** Telnyx retries a 503; a few seconds is enough for the bodies in flight to finish or time out. */
const BUSY_RETRY_AFTER_SEC = 5;

/**
 * POST /webhooks/telnyx: raw bytes → signature → JSON → record → 200 (docs/behaviour.md §5). Telnyx asks for
 * exactly 200 within ~2 s, so only recording happens before the answer; everything else goes to
 * `afterRecord`.
 */
export function makeTelnyxWebhookHandler(deps: WebhookDeps): Koa.Middleware {
  const maxInFlight = deps.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  let inFlight = 0;
  return async (ctx) => {
    const log = (ctx.state as { log?: Logger }).log ?? deps.log;
    const answer = (status: number, result: WebhookResult, body: Record<string, string>): void => {
      ctx.status = status;
      ctx.body = body;
      deps.onResult?.(result);
    };
    const signature = ctx.get('telnyx-signature-ed25519') || undefined;
    const timestamp = ctx.get('telnyx-timestamp') || undefined;

    // Headers first: a request that cannot be valid is answered before its body is read, and its connection
    // closed so the unread bytes are never taken in.
    const headers = deps.verify.checkHeaders(signature, timestamp);
    if (!headers.ok) {
      log.warn({ reason: headers.reason }, 'webhook refused: signature headers');
      ctx.set('Connection', 'close');
      return answer(401, headers.reason, { error: headers.reason });
    }
    const declared = Number(ctx.get('content-length') || BODY_LIMIT_BYTES);
    const reserved = Math.min(Number.isFinite(declared) ? declared : BODY_LIMIT_BYTES, BODY_LIMIT_BYTES);
    if (inFlight + reserved > maxInFlight) {
      log.warn({ inFlightBytes: inFlight }, 'webhook refused: too many bodies being read; Telnyx will retry');
      ctx.set('Connection', 'close');
      ctx.set('Retry-After', String(BUSY_RETRY_AFTER_SEC));
      return answer(503, 'busy', { error: 'busy' });
    }
    inFlight += reserved;
    let rawBody: Awaited<ReturnType<typeof tryReadRawBody>>;
    try {
      rawBody = await tryReadRawBody(ctx);
    } finally {
      inFlight -= reserved;
    }
    if (rawBody === 'too_large') return answer(413, 'too_large', { error: 'body_too_large' });
    if (rawBody === 'unreadable') return answer(400, 'bad_request', { error: 'unreadable_body' });

    // Verify before parsing: nothing from an unauthenticated body reaches JSON.parse or the logs.
    const verdict = deps.verify(rawBody, signature, timestamp);
    if (!verdict.ok) {
      log.warn({ reason: verdict.reason }, 'webhook refused: signature check failed');
      return answer(401, verdict.reason, { error: verdict.reason });
    }

    const event = tryParseTelnyxEvent(rawBody);
    if (!event) {
      log.warn('webhook refused: signed body is not a Telnyx event envelope');
      return answer(400, 'bad_request', { error: 'not_a_telnyx_event' });
    }

    let result: RecordResult;
    try {
      result = await deps.record(event);
    } catch (error) {
      log.error({ err: coerceError(error), eventId: event.id }, 'webhook not recorded; Telnyx will retry');
      return answer(503, 'unavailable', { error: 'unavailable' });
    }

    log.info({ eventId: event.id, eventType: event.eventType, result }, 'webhook recorded');
    answer(200, result === 'recorded' ? 'accepted' : 'duplicate', { result });
    // A duplicate was already handed to afterRecord when it was first recorded; acting again would double it.
    if (result === 'recorded' && deps.afterRecord) runAfterAnswer(ctx, log, event, deps.afterRecord);
  };
}

/**
 * Reads the exact request bytes (raw-body 3, no encoding → Buffer). Never a decoded string: a body with an
 * invalid UTF-8 byte would no longer verify. See docs/dependencies.md (raw-body).
 */
async function tryReadRawBody(ctx: Koa.Context): Promise<Buffer | 'too_large' | 'unreadable'> {
  const declaredLength = ctx.get('content-length');
  try {
    return await getRawBody(ctx.req, { length: declaredLength || null, limit: BODY_LIMIT_BYTES });
  } catch (error) {
    // raw-body errors carry http-errors style `type`: entity.too.large, request.aborted, request.size.invalid.
    if ((error as { type?: unknown }).type === 'entity.too.large') {
      // The rest of the body may still be in flight; do not try to reuse this connection.
      ctx.set('Connection', 'close');
      return 'too_large';
    }
    return 'unreadable';
  }
}

/**
 * Real events nest about five levels. A deeper one is refused as malformed: JSON.parse copes with thousands of
 * levels, but recording the event stringifies it again, which overflows the stack, and that failure would be a
 * 503 that Telnyx retries for days.
 */
const MAX_JSON_DEPTH = 64;

/** True when brackets outside strings nest deeper than `limit`; one pass over the bytes, no parsing. */
function jsonNestingExceeds(bytes: Buffer, limit: number): boolean {
  const QUOTE = 0x22;
  const BACKSLASH = 0x5c;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/**
 * Accepts only the `{data: {id, event_type, …}}` envelope real deliveries use (docs/telnyx.md §5.1); the
 * wrapper-less shape from old doc samples is refused with 400 rather than guessed at.
 */
export function tryParseTelnyxEvent(rawBody: Buffer): TelnyxEvent | null {
  if (jsonNestingExceeds(rawBody, MAX_JSON_DEPTH)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(parsed) || !isRecord(parsed.data)) return null;
  const { id, event_type: eventType, occurred_at: occurredAt, payload } = parsed.data;
  if (!isNonEmptyString(id) || !isNonEmptyString(eventType)) return null;
  return {
    id,
    eventType,
    occurredAt: isNonEmptyString(occurredAt) ? occurredAt : null,
    payload: isRecord(payload) ? payload : {},
    raw: parsed,
  };
}

/**
 * Runs `afterRecord` once the answer has left (the response's `close` fires after `finish`, or when the
 * client hung up; the event is recorded either way). Errors, sync or async, are logged and never thrown.
 */
function runAfterAnswer(
  ctx: Koa.Context,
  log: Logger,
  event: TelnyxEvent,
  afterRecord: (event: TelnyxEvent) => void,
): void {
  const logFailure = (error: unknown): void => {
    log.error({ err: coerceError(error), eventId: event.id }, 'webhook follow-up failed');
  };
  ctx.res.once('close', () => {
    try {
      // Typed as void, but an async function fits that type too: catch its rejection as well.
      const returned: unknown = afterRecord(event);
      if (returned instanceof Promise) returned.catch(logFailure);
    } catch (error) {
      logFailure(error);
    }
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
