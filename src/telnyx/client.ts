/**
 * Thin Telnyx Programmable Fax client (docs/telnyx.md §1–§4). It speaks HTTP and Telnyx's JSON shapes and
 * nothing else: no jobs, no database, no retries. Every call returns a `TelnyxOutcome` so that the caller decides
 * what a failure means for its job (docs/behaviour.md §4); nothing is thrown.
 */
import { Agent } from '../lib/undiciCore.js';
import { SECOND } from '../lib/units.js';
import { classifyHttpStatus, type TelnyxFailure } from './classify.js';
import { tryParseFaxEnvelope, tryParseFaxPage } from './parseFax.js';
import { callTelnyx, type TelnyxCall, type TelnyxResponse, type TransportDeps } from './transport.js';
import type {
  ListFaxesFilter,
  SendFaxRequest,
  TelnyxClient,
  TelnyxClientOptions,
  TelnyxFax,
  TelnyxOutcome,
  UnreadableFax,
} from './types.js';
import { defaultUserAgent } from './userAgent.js';

export { decodeClientState, encodeClientState } from './clientState.js';
export { parseRetryAfter } from './retryAfter.js';
export type * from './types.js';

const DEFAULT_TIMEOUT_MS = 30 * SECOND;
/** undici's own default; a shorter call timeout lowers it so a dead host fails as "never sent" within the deadline. */
const MAX_CONNECT_TIMEOUT_MS = 10 * SECOND;
/** The largest page size Telnyx's paginated endpoints accept (docs/telnyx.md §2–§3). */
const PAGE_SIZE = 250;
/** 50 000 faxes: far beyond any reconciliation window; stops a server that keeps raising total_pages. */
const MAX_PAGES = 200;
const SNIPPET_CHARS = 200;

/** Replaces the API key wherever it might surface (a proxy echoing headers into an error page, say). */
function redactKey<T>(outcome: TelnyxOutcome<T>, apiKey: string): TelnyxOutcome<T> {
  if (outcome.kind === 'ok' || apiKey.length === 0) return outcome;
  const scrub = (text: string): string => text.split(apiKey).join('[redacted]');
  if (outcome.kind !== 'rejected') return { ...outcome, reason: scrub(outcome.reason) };
  const errors = outcome.errors.map((e) => ({
    ...e,
    title: scrub(e.title),
    ...(e.detail === undefined ? {} : { detail: scrub(e.detail) }),
  }));
  return { ...outcome, errors, detail: scrub(outcome.detail) };
}

/** Only schema fields go on the wire (SPEC `SendFaxRequest`), whatever extra properties the caller's object has. */
function sendFaxBody(req: SendFaxRequest): Record<string, string | boolean> {
  const body: Record<string, string | boolean> = {
    connection_id: req.connection_id,
    from: req.from,
    to: req.to,
    media_url: req.media_url,
    webhook_url: req.webhook_url,
    client_state: req.client_state,
  };
  if (req.quality !== undefined) body.quality = req.quality;
  if (req.t38_enabled !== undefined) body.t38_enabled = req.t38_enabled;
  return body;
}

function listQuery(filter: ListFaxesFilter, page: number): URLSearchParams {
  const query = new URLSearchParams();
  if (filter.to !== undefined) query.set('filter[to][eq]', filter.to);
  if (filter.from !== undefined) query.set('filter[from][eq]', filter.from);
  if (filter.direction !== undefined) query.set('filter[direction][eq]', filter.direction);
  if (filter.createdAfter) query.set('filter[created_at][gte]', filter.createdAfter.toISOString());
  if (filter.createdBefore) query.set('filter[created_at][lte]', filter.createdBefore.toISOString());
  query.set('page[number]', String(page));
  query.set('page[size]', String(PAGE_SIZE));
  return query;
}

function unreadable(call: TelnyxCall, response: TelnyxResponse): TelnyxFailure {
  const snippet = response.text.trim().slice(0, SNIPPET_CHARS);
  const reason = `${call.method} ${call.path} answered ${response.status} with an unexpected body: ${snippet || '(empty)'}`;
  return { kind: 'uncertain', status: response.status, reason };
}

export function makeTelnyxClient(options: TelnyxClientOptions): TelnyxClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ?? new Agent({ connect: { timeout: Math.min(timeoutMs, MAX_CONNECT_TIMEOUT_MS) } });
  const deps: TransportDeps = {
    dispatcher,
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    headers: {
      authorization: `Bearer ${options.apiKey}`,
      accept: 'application/json',
      'user-agent': options.userAgent ?? defaultUserAgent(),
    },
    timeoutMs,
  };

  /** Runs one call; 2xx bodies go to `onSuccess`, everything else is classified. */
  async function run<T>(
    call: TelnyxCall,
    signal: AbortSignal | undefined,
    onSuccess: (response: TelnyxResponse) => TelnyxOutcome<T>,
  ): Promise<TelnyxOutcome<T>> {
    const response = await callTelnyx(deps, call, signal);
    let outcome: TelnyxOutcome<T>;
    if (response.kind !== 'response') outcome = response;
    else if (response.status >= 200 && response.status < 300) outcome = onSuccess(response);
    else outcome = classifyHttpStatus(`${call.method} ${call.path}`, response);
    return redactKey(outcome, options.apiKey);
  }

  function faxCall(call: TelnyxCall, signal?: AbortSignal): Promise<TelnyxOutcome<TelnyxFax>> {
    return run(call, signal, (response) => {
      const fax = tryParseFaxEnvelope(response.text);
      return fax ? { kind: 'ok', value: fax } : unreadable(call, response);
    });
  }

  function actionCall(
    id: string,
    action: 'cancel' | 'refresh',
    signal?: AbortSignal,
  ): Promise<TelnyxOutcome<void>> {
    const call: TelnyxCall = { method: 'POST', path: `/faxes/${encodeURIComponent(id)}/actions/${action}` };
    return run(call, signal, () => ({ kind: 'ok', value: undefined }));
  }

  return {
    sendFax: (req, signal) => faxCall({ method: 'POST', path: '/faxes', json: sendFaxBody(req) }, signal),

    getFax: (id, signal) => faxCall({ method: 'GET', path: `/faxes/${encodeURIComponent(id)}` }, signal),

    async listFaxes(filter, signal) {
      const faxes: TelnyxFax[] = [];
      const skipped: UnreadableFax[] = [];
      for (let page = 1; ; page++) {
        if (page > MAX_PAGES) {
          const reason = `GET /faxes returned more than ${MAX_PAGES} pages of ${PAGE_SIZE}; narrow the filter`;
          return { kind: 'uncertain', status: null, reason };
        }
        const call: TelnyxCall = { method: 'GET', path: '/faxes', query: listQuery(filter, page) };
        const outcome = await run(call, signal, (response) => {
          const parsed = tryParseFaxPage(response.text);
          return parsed ? { kind: 'ok', value: parsed } : unreadable(call, response);
        });
        if (outcome.kind !== 'ok') return outcome;
        const { entries, totalPages } = outcome.value;
        faxes.push(...outcome.value.faxes);
        skipped.push(...outcome.value.unreadable);
        // A full page may have a successor whatever meta says (Telnyx has answered without total_pages, and
        // stopping there made reconciliation miss a fax and send it again); an empty page always ends the walk,
        // so a wrong total_pages cannot loop us through empty pages.
        const more = entries >= PAGE_SIZE || (totalPages !== null && page < totalPages);
        if (entries === 0 || !more) break;
      }
      return { kind: 'ok', value: { faxes, unreadable: skipped } };
    },

    refreshFaxMedia: (id, signal) => actionCall(id, 'refresh', signal),

    cancelFax: (id, signal) => actionCall(id, 'cancel', signal),

    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}
