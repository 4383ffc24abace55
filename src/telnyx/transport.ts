import type { Dispatcher } from 'undici';

import { request } from '../lib/undiciCore.js';
import { classifyTransportError, type TelnyxFailure } from './classify.js';
import type { ResponseHeaders } from './retryAfter.js';

/** Telnyx answers are small (a 250-fax page is a few hundred KB); anything bigger is not Telnyx talking. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface TransportDeps {
  dispatcher: Dispatcher;
  /** Base URL without a trailing slash, e.g. `https://api.telnyx.com/v2`. */
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
}

export interface TelnyxCall {
  method: 'GET' | 'POST';
  /** Path below the base URL, starting with `/`. */
  path: string;
  query?: URLSearchParams;
  json?: unknown;
}

export interface TelnyxResponse {
  kind: 'response';
  status: number;
  statusText: string;
  headers: ResponseHeaders;
  text: string;
}

/**
 * Records whether undici started writing the request. `onRequestStart` runs just before the request line goes on
 * the socket (undici `client-h1.js` `writeH1`); a request aborted at that point (a signal that fired while
 * connecting) is written nowhere, hence the `aborted` check. This is what separates "retry" from "uncertain" for
 * timeouts and aborts, which carry no telling error code.
 */
function trackSending(state: { sent: boolean }): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    dispatch(options, {
      onRequestStart(controller, context) {
        handler.onRequestStart?.(controller, context);
        if (!controller.aborted) state.sent = true;
      },
      onRequestUpgrade: (...args) => handler.onRequestUpgrade?.(...args),
      onResponseStart: (...args) => handler.onResponseStart?.(...args),
      onResponseData: (...args) => handler.onResponseData?.(...args),
      onResponseEnd: (...args) => handler.onResponseEnd?.(...args),
      onResponseError: (...args) => handler.onResponseError?.(...args),
    });
}

/**
 * undici only notices an abort once the socket is connected, so a hung connect would outlive our deadline; racing
 * the signal keeps the deadline exact. The request itself still sees the same signal and is dropped unsent.
 */
async function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy();
      throw new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One HTTP exchange with Telnyx under one deadline (connect to last body byte). Returns the response whatever its
 * status, or a `retry`/`uncertain` failure when the exchange broke; it never throws.
 */
export async function callTelnyx(
  deps: TransportDeps,
  call: TelnyxCall,
  callerSignal?: AbortSignal,
): Promise<TelnyxResponse | TelnyxFailure> {
  const label = `${call.method} ${call.path}`;
  const state: { sent: boolean; head: Omit<TelnyxResponse, 'text'> | null } = { sent: false, head: null };
  const timeout = AbortSignal.timeout(deps.timeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
  const query = call.query?.toString();
  const url = `${deps.baseUrl}${call.path}${query ? `?${query}` : ''}`;
  const headers: Record<string, string> = { ...deps.headers };
  if (call.json !== undefined) headers['content-type'] = 'application/json';

  const exchange = async (): Promise<TelnyxResponse> => {
    const res = await request(url, {
      method: call.method,
      headers,
      body: call.json === undefined ? null : JSON.stringify(call.json),
      signal,
      dispatcher: deps.dispatcher.compose(trackSending(state)),
      headersTimeout: deps.timeoutMs,
      bodyTimeout: deps.timeoutMs,
    });
    state.head = {
      kind: 'response',
      status: res.statusCode,
      statusText: res.statusText,
      headers: res.headers,
    };
    return { ...state.head, text: await readCapped(res.body) };
  };

  try {
    return await raceAbort(exchange(), signal);
  } catch (thrown) {
    const failure = classifyTransportError(thrown, {
      call: label,
      sent: state.sent,
      callerAborted: callerSignal?.aborted === true,
      timedOut: timeout.aborted,
      timeoutMs: deps.timeoutMs,
    });
    // A non-2xx status decides the outcome on its own (a refusal stays a refusal even if its body was cut off);
    // a 2xx whose body broke leaves us without the fax id, which is exactly "uncertain".
    const head = state.head;
    if (head && (head.status < 200 || head.status >= 300)) return { ...head, text: '' };
    return failure.kind === 'uncertain' && head ? { ...failure, status: head.status } : failure;
  }
}
