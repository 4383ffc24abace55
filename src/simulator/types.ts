import type { Logger } from '../log.js';
import type { RateLimitOptions } from './pacing.js';

/** Fax statuses from the SPEC `Fax.status` enum (docs/telnyx.md §5.2). */
export type FaxStatus =
  | 'queued'
  | 'media.processed'
  | 'originated'
  | 'sending'
  | 'delivered'
  | 'failed'
  | 'initiated'
  | 'receiving'
  | 'media.processing'
  | 'received';

export type FaxDirection = 'outbound' | 'inbound';

export type WebhookMode = 'normal' | 'duplicate' | 'reverse' | 'drop';

export interface SimulatorOptions {
  /** Defaults to 127.0.0.1 and port 0 (any free port). */
  host?: string;
  port?: number;
  /** When set, every `/v2` request must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** The accepted `connection_id`; other values get 422. Any value is accepted when unset. */
  connectionId?: string;
  /** The numbers on the simulated account (`GET /phone_numbers`); every E.164 number when unset. */
  phoneNumbers?: string[];
  /** The Fax Application's outbound voice profile; null simulates an application without one. */
  outboundVoiceProfileId?: string | null;
  /** 32-byte Ed25519 seed for webhook signatures; a random one is generated when absent. */
  signingSeed?: Uint8Array;
  /** Where events go when a fax has no `webhook_url` (the Fax Application's `webhook_event_url`). */
  defaultWebhookUrl?: string;
  timing?: {
    /** Delay between a fax's lifecycle steps (default 50 ms; sandbox uses about 1 s). */
    stepMs?: number;
    /** How long a webhook receiver may take before the attempt counts as failed (Telnyx: 2000 ms). */
    webhookTimeoutMs?: number;
    /** Waits before each webhook retry; their count bounds the retries (default [4, 20] × stepMs). */
    webhookRetryDelaysMs?: number[];
    /** Give up fetching a media_url after this long (default 30 s). */
    fetchTimeoutMs?: number;
    /** Every `/v2` answer waits this long (real Telnyx takes a few hundred ms); default 0. */
    apiLatencyMs?: number;
  };
  /** Media limits (Telnyx: 50 MB, 350 pages). Tests lower them to exercise the failures cheaply. */
  limits?: { maxBytes?: number; maxPages?: number };
  log?: Logger;
  /** Milliseconds since the epoch, for created_at, occurred_at, telnyx-timestamp and URL expiry. */
  clock?: () => number;
}

/** One webhook event as produced (the `data` object of the delivered envelope). */
export interface SimEvent {
  record_type: 'event';
  id: string;
  event_type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
}

/** What the simulator knows about one fax. `faxes()` hands out copies. */
export interface SimFax {
  id: string;
  direction: FaxDirection;
  status: FaxStatus;
  /** Every status the fax has been in, in order. */
  statusHistory: FaxStatus[];
  connectionId: string;
  from: string;
  to: string;
  clientState: string | null;
  webhookUrl: string | null;
  /** Outbound: the `media_url` sent to us. Inbound: the current signed download URL (null until received). */
  mediaUrl: string | null;
  /** The exact JSON body of `POST /faxes` (parsed), and its raw text; null for inbound faxes. */
  request: Record<string, unknown> | null;
  rawRequest: string | null;
  createdAt: string;
  updatedAt: string;
  failureReason: string | null;
  /** Pages transferred (outbound, in fax.delivered) or received (inbound). */
  pageCount: number | null;
  /** Pages counted in the fetched (outbound) or generated (inbound) PDF. */
  documentPages: number | null;
  callDurationSecs: number | null;
  /** The media bytes fetched from `media_url` (outbound) or served (inbound); null if nothing was read. */
  media: { sha256: string; bytes: number; httpStatus: number | null } | null;
  /** Inbound only: whether `partial_content` was reported. */
  partial: boolean;
  deleted: boolean;
  /** Events produced for this fax in order (before any reordering, duplication or dropping). */
  events: SimEvent[];
}

export interface SimRequest {
  method: string;
  /** Path as received, including `/v2`, without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body when it parsed, else undefined; `rawBody` always holds the text. */
  body: unknown;
  rawBody: string;
  /** Status answered; 0 when the socket was destroyed or the client went away before an answer. */
  status: number;
  /** True when the answer came from `injectResponses`. */
  injected: boolean;
  at: number;
}

export interface SimDelivery {
  eventId: string;
  eventType: string;
  faxId: string;
  url: string;
  /** `meta.attempt` of this delivery (each duplicate copy counts its own attempts). */
  attempt: number;
  /** HTTP status answered by the receiver; 0 on network error or timeout; -1 when dropped on purpose. */
  status: number;
  error: string | null;
  rawBody: string;
  signature: string;
  timestamp: string;
  at: number;
}

export interface InjectedResponse {
  /** Status to answer; defaults to the real answer when `afterCreate`, else 500. */
  status?: number;
  /** Body to answer; defaults to a Telnyx error envelope fitting `status`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Run the real handler first (the fax IS created), then answer with this injection instead. */
  afterCreate?: boolean;
  /** Wait this long before answering (a slow or hanging Telnyx). */
  hangMs?: number;
  /** Destroy the connection instead of answering (after `hangMs`, if any). */
  destroySocket?: boolean;
  /**
   * Only for a request with these query parameter values, e.g. `{'filter[to][eq]': '+1…'}`; other requests
   * pass by and leave the injection queued.
   */
  whenQuery?: Record<string, string>;
  /** `GET /faxes`: the real list without `meta.total_pages` (Telnyx has answered so). */
  omitTotalPages?: boolean;
  /**
   * `GET /faxes`: the real list with `set` merged into every entry whose fields equal all of `match`, e.g.
   * `{match: {to: '+1…'}, set: {from: null}}` for an entry of an unexpected shape.
   */
  patchEntries?: { match: Record<string, unknown>; set: Record<string, unknown> };
}

export interface InboundOptions {
  from: string;
  to: string;
  pages?: number;
  partial?: boolean;
  /** Defaults to the simulator's `defaultWebhookUrl`. */
  webhookUrl?: string;
  /** Make the inbound fax fail with this `failure_reason` (e.g. `sender_call_dropped`). */
  failWith?: string;
  /** Lifetime of each signed media URL (Telnyx: about 10 minutes). */
  mediaTtlMs?: number;
}

export interface FaxSeed {
  to: string;
  count: number;
  from?: string;
  direction?: FaxDirection;
  /** Default `delivered` (outbound) or `received` (inbound). */
  status?: FaxStatus;
  /** Epoch ms. */
  createdAt?: number;
}

export interface Simulator {
  /** Base URL such as `http://127.0.0.1:PORT/v2`: what the daemon uses as `telnyx.api_url`. */
  url: string;
  /** Base64 of the raw 32-byte Ed25519 public key: what the daemon uses as `telnyx.public_key`. */
  publicKey: string;
  faxes(): SimFax[];
  requests(): SimRequest[];
  deliveries(): SimDelivery[];
  failNumber(to: string, failureReasons: string[] | string): void;
  injectResponses(path: string, responses: InjectedResponse[]): void;
  /** Every `/v2` answer from now on waits `ms` (0: none). */
  setApiLatency(ms: number): void;
  /**
   * Refuses `/v2` requests (every one, or only `options.key` such as `POST /faxes`) with 429 for `forMs` from
   * the next such request on, with `Retry-After` and `x-ratelimit-reset` set to the whole seconds left of that
   * period (or `options.retryAfterSeconds`): Telnyx at its rate limit.
   */
  rateLimit(forMs: number, options?: RateLimitOptions): void;
  /** The most `/v2` requests of one kind in progress at once, by `METHOD /template` (`POST /faxes`). */
  peakConcurrency(key: string): number;
  /**
   * Adds finished faxes that only GET /faxes shows (no media, no webhooks), for paging tests: `count` faxes to
   * `to`, created at `createdAt` (default now; a later time lists them before the faxes placed meanwhile).
   */
  seedFaxes(seed: FaxSeed): SimFax[];
  webhookMode(mode: WebhookMode): void;
  sendInbound(opts: InboundOptions): Promise<SimFax>;
  waitForIdle(): Promise<void>;
  close(): Promise<void>;
}
