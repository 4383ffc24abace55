import type { Dispatcher } from 'undici';

/** How to reach Telnyx. `apiUrl` includes the version prefix, e.g. `https://api.telnyx.com/v2`. */
export interface TelnyxClientOptions {
  apiUrl: string;
  apiKey: string;
  /** Deadline for one HTTP call, connect to last body byte. Default 30 s. */
  timeoutMs?: number;
  /** Default `faxbridge/<version from package.json>`. */
  userAgent?: string;
  /** Tests and callers with their own pool pass one; otherwise the client owns (and closes) an Agent. */
  dispatcher?: Dispatcher;
}

/** The Fax resource (docs/telnyx.md §1.5). Fields Telnyx adds later stay readable through the index signature. */
export interface TelnyxFax {
  id: string;
  status: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  client_state?: string | null;
  media_url?: string | null;
  created_at: string;
  updated_at?: string;
  failure_reason?: string | null;
  page_count?: number | null;
  [k: string]: unknown;
}

/** The subset of the JSON `SendFaxRequest` schema faxbridge sends; nothing else goes on the wire. */
export interface SendFaxRequest {
  connection_id: string;
  from: string;
  to: string;
  media_url: string;
  webhook_url: string;
  /** Must be valid Base64 (Telnyx rejects anything else); build it with `encodeClientState`. */
  client_state: string;
  quality?: 'normal' | 'high' | 'very_high' | 'ultra_light' | 'ultra_dark';
  /** false asks Telnyx to send as audio (G.711) instead of T.38. */
  t38_enabled?: boolean;
}

/** One entry of Telnyx's error envelope `{ errors: [...] }` (docs/telnyx.md §4). */
export interface TelnyxApiError {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
}

/**
 * Every call ends in exactly one of these; nothing is thrown. The split follows docs/behaviour.md §4:
 * - `rejected`: a 4xx other than 408/429. Final; `detail` is Telnyx's explanation in plain words.
 * - `retry`: Telnyx certainly did not act (429, or the request never left this host).
 * - `uncertain`: Telnyx may have acted (5xx, 408, or the connection failed after the request was written).
 *   For `sendFax` the caller must reconcile with `listFaxes` before sending again.
 */
export type TelnyxOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'rejected'; status: number; errors: TelnyxApiError[]; detail: string }
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  | { kind: 'uncertain'; status: number | null; reason: string };

export interface ListFaxesFilter {
  to?: string;
  from?: string;
  direction?: 'inbound' | 'outbound';
  /** Inclusive (`filter[created_at][gte]`): reconciliation prefers one fax too many over one too few. */
  createdAfter?: Date;
  /** Inclusive (`filter[created_at][lte]`). */
  createdBefore?: Date;
}

/** A list entry that is not a readable fax: skipped, but what little it says is kept for the caller to judge. */
export interface UnreadableFax {
  /** The entry's `id` when it is a string. */
  id: string | null;
  /** The entry's `client_state` when it is a string: reconciliation must not call such a fax absent. */
  client_state: string | null;
  /** The entry as received, shortened, for the log. */
  snippet: string;
}

/** What GET /faxes listed: the faxes, and the entries that could not be read as one (skipped, for the log). */
export interface FaxList {
  faxes: TelnyxFax[];
  unreadable: UnreadableFax[];
}

export interface TelnyxClient {
  sendFax(req: SendFaxRequest, signal?: AbortSignal): Promise<TelnyxOutcome<TelnyxFax>>;
  /**
   * Follows every page (`page[size]=250`) while a page is full or `meta.total_pages` says there are more; any
   * failing or unreadable page decides the outcome. Entries that are not readable faxes come back apart.
   */
  listFaxes(filter: ListFaxesFilter, signal?: AbortSignal): Promise<TelnyxOutcome<FaxList>>;
  /** An unknown id is `rejected` with status 404. */
  getFax(id: string, signal?: AbortSignal): Promise<TelnyxOutcome<TelnyxFax>>;
  /** Asks Telnyx for a fresh `media_url` on an inbound fax; read it back with `getFax`. */
  refreshFaxMedia(id: string, signal?: AbortSignal): Promise<TelnyxOutcome<void>>;
  cancelFax(id: string, signal?: AbortSignal): Promise<TelnyxOutcome<void>>;
  /** Closes the client's own connection pool; a dispatcher passed in options is left open for its owner. */
  close(): Promise<void>;
}
