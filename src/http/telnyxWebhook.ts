import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { coerceError } from '../errors.js';
import { MB } from '../lib/units.js';
import type { Logger } from '../log.js';
import { type TelnyxEvent, tryParseTelnyxEvent } from './parseTelnyxEvent.js';
import { readSignedBody } from './readSignedBody.js';
import { type SignatureVerifier, signedPrefix, type VerifyFailure } from './verifySignature.js';

export type { TelnyxEvent } from './parseTelnyxEvent.js';

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

/** What the HTTP app gives the route: where its access line goes, and the id that ties its lines together. */
export interface WebhookHttpScope {
  /** The `component: http` logger, for the one access line per request. */
  accessLog: Logger;
  requestId: () => string;
}

/** The route on Node's own request and response: it answers, and writes its access line, itself. */
export type WebhookRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The route's path, matched case-sensitively as written (src/http/app.ts). */
export const WEBHOOK_PATH = '/webhooks/telnyx';

/** docs/behaviour.md §5: bodies over 1 MB are refused with 413. Fax events are a few hundred bytes. */
const BODY_LIMIT_BYTES = 1 * MB;
/**
 * Bodies of requests whose headers passed are read into memory; this bounds them together, so many slow
 * clients cannot hold a gigabyte. Each request reserves its Content-Length (1 MB when chunked) until its
 * signature is checked.
 */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * MB;
/** Telnyx retries a 503; a few seconds is enough for the bodies in flight to finish or time out. */
const BUSY_RETRY_AFTER_SEC = 5;
const JSON_TYPE = 'application/json; charset=utf-8';

/** One answer of the route: status, metric label, the JSON body as sent, and what the access line says. */
interface Answer {
  status: number;
  /** Absent only on a 500, which is a bug of ours and not one of the route's answers. */
  result?: WebhookResult;
  body: string;
  /** Close the connection after answering: the rest of the body may still be on its way. */
  close?: boolean;
  retryAfterSec?: number;
  event?: TelnyxEvent;
}

const answers = {
  recorded: { status: 200, result: 'accepted', body: '{"result":"recorded"}' },
  duplicate: { status: 200, result: 'duplicate', body: '{"result":"duplicate"}' },
  tooLarge: { status: 413, result: 'too_large', body: '{"error":"body_too_large"}', close: true },
  unreadable: { status: 400, result: 'bad_request', body: '{"error":"unreadable_body"}' },
  notAnEvent: { status: 400, result: 'bad_request', body: '{"error":"not_a_telnyx_event"}' },
  busy: {
    status: 503,
    result: 'busy',
    body: '{"error":"busy"}',
    close: true,
    retryAfterSec: BUSY_RETRY_AFTER_SEC,
  },
  unavailable: { status: 503, result: 'unavailable', body: '{"error":"unavailable"}' },
} satisfies Record<string, Answer>;

function refusal(reason: VerifyFailure, close = false): Answer {
  return { status: 401, result: reason, body: JSON.stringify({ error: reason }), close };
}

/**
 * POST /webhooks/telnyx: raw bytes → signature → JSON → record → 200 (docs/behaviour.md §5). Telnyx asks for
 * exactly 200 within ~2 s, so only recording happens before the answer; everything else goes to
 * `afterRecord`. It runs on Node's request and response, ahead of Koa (src/http/app.ts): at thousands of
 * webhooks a second Koa's context, middleware chain and router were a fair share of each one's time.
 *
 * One log line per accepted event: its processing says what it was and what it changed (src/events), so
 * the access line of a recorded event is at debug. Refusals and duplicates keep theirs at info.
 */
export function makeTelnyxWebhookHandler(deps: WebhookDeps, scope: WebhookHttpScope): WebhookRequestHandler {
  const maxInFlight = deps.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  let inFlight = 0;

  async function decide(req: IncomingMessage, reqId: string): Promise<Answer> {
    const signature = headerValue(req, 'telnyx-signature-ed25519');
    const timestamp = headerValue(req, 'telnyx-timestamp');

    // Headers first: a request that cannot be valid is answered before its body is read, and its connection
    // closed so the unread bytes are never taken in.
    const headers = deps.verify.checkHeaders(signature, timestamp);
    if (!headers.ok || !signature || !timestamp) {
      const reason = headers.ok ? 'missing_headers' : headers.reason;
      deps.log.warn({ reqId, reason }, 'webhook refused: signature headers');
      return refusal(reason, true);
    }
    const declared = Number(req.headers['content-length'] ?? BODY_LIMIT_BYTES);
    const reserved = Math.min(Number.isFinite(declared) ? declared : BODY_LIMIT_BYTES, BODY_LIMIT_BYTES);
    if (inFlight + reserved > maxInFlight) {
      deps.log.warn(
        { reqId, inFlightBytes: inFlight },
        'webhook refused: too many bodies being read; Telnyx will retry',
      );
      return answers.busy;
    }

    // The reservation holds until the signature is checked: the bytes live that long.
    inFlight += reserved;
    let signed: Awaited<ReturnType<typeof readSignedBody>>;
    let verdict: Awaited<ReturnType<SignatureVerifier['verifyMessage']>>;
    try {
      signed = await readSignedBody(req, signedPrefix(timestamp), BODY_LIMIT_BYTES);
      if (signed === 'too_large') return answers.tooLarge;
      if (signed === 'unreadable') return answers.unreadable;
      // Verify before parsing: nothing from an unauthenticated body reaches JSON.parse or the logs.
      verdict = await deps.verify.verifyMessage(signed.message, signature);
    } finally {
      inFlight -= reserved;
    }
    if (!verdict.ok) {
      deps.log.warn({ reqId, reason: verdict.reason }, 'webhook refused: signature check failed');
      return refusal(verdict.reason);
    }

    const event = tryParseTelnyxEvent(signed.body);
    if (!event) {
      deps.log.warn({ reqId }, 'webhook refused: signed body is not a Telnyx event envelope');
      return answers.notAnEvent;
    }
    try {
      const recorded = await deps.record(event);
      return { ...(recorded === 'recorded' ? answers.recorded : answers.duplicate), event };
    } catch (error) {
      deps.log.error(
        { reqId, err: coerceError(error), eventId: event.id },
        'webhook not recorded; Telnyx will retry',
      );
      return answers.unavailable;
    }
  }

  return async (req, res) => {
    const started = performance.now();
    const reqId = scope.requestId();
    let answer: Answer;
    try {
      answer = await decide(req, reqId);
    } catch (thrown) {
      // A bug of ours: a bare 500, as every other route answers one (src/http/app.ts).
      scope.accessLog.error({ reqId, err: coerceError(thrown) }, 'request failed');
      answer = { status: 500, body: '{"error":"internal_server_error"}' };
    }
    if (answer.result) deps.onResult?.(answer.result);

    // A recorded event's line comes from its processing; its access line is for debugging only.
    const level = answer.result === 'accepted' ? 'debug' : 'info';
    if (scope.accessLog.isLevelEnabled(level)) {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      scope.accessLog[level](
        {
          reqId,
          method: 'POST',
          path: WEBHOOK_PATH,
          status: answer.status,
          durationMs,
          result: answer.result,
          event: answer.event?.id,
        },
        'http request',
      );
    }

    const headers: OutgoingHttpHeaders = {
      'Content-Type': JSON_TYPE,
      'Content-Length': Buffer.byteLength(answer.body),
    };
    if (answer.close) headers.Connection = 'close';
    if (answer.retryAfterSec) headers['Retry-After'] = String(answer.retryAfterSec);
    // A duplicate was already handed to afterRecord when it was first recorded; acting again would double it.
    if (answer.result === 'accepted' && answer.event && deps.afterRecord) {
      runAfterAnswer(res, deps.log, reqId, answer.event, deps.afterRecord);
    }
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Runs `afterRecord` once the answer has left (the response's `close` fires after `finish`, or when the
 * client hung up; the event is recorded either way). Errors, sync or async, are logged and never thrown.
 */
function runAfterAnswer(
  res: ServerResponse,
  log: Logger,
  reqId: string,
  event: TelnyxEvent,
  afterRecord: (event: TelnyxEvent) => void,
): void {
  const logFailure = (error: unknown): void => {
    log.error({ reqId, err: coerceError(error), eventId: event.id }, 'webhook follow-up failed');
  };
  const follow = (): void => {
    try {
      // Typed as void, but an async function fits that type too: catch its rejection as well.
      const returned: unknown = afterRecord(event);
      if (returned instanceof Promise) returned.catch(logFailure);
    } catch (error) {
      logFailure(error);
    }
  };
  // A client that hung up while the event was recorded has already closed the response: its 'close' is past.
  if (res.destroyed || !res.socket || res.socket.destroyed) setImmediate(follow);
  else res.once('close', follow);
}
