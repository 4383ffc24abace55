/**
 * How the simulated Telnyx paces its API as a whole, for tests and benches of the daemon's drain: a latency on
 * every `/v2` answer (real Telnyx takes a few hundred ms for POST /faxes), a period during which every `/v2`
 * request is refused with 429 (a rate limit), and how many requests of each kind were in progress at once.
 */
export interface ApiPacing {
  /** Every `/v2` answer waits this long (ms) after the request arrived. */
  setLatency(ms: number): void;
  latencyMs(): number;
  /**
   * For `forMs` from the next `/v2` request on, every `/v2` request is answered 429 with `Retry-After` (the whole
   * seconds left of the period, or `retryAfterSeconds` when given) and `x-ratelimit-reset`, as Telnyx does at
   * its limit. Starting at the next request, not now, lets a test queue its work first whatever the machine's pace.
   */
  rateLimit(forMs: number, options?: RateLimitOptions): void;
  /** The 429 headers for a request of `key` arriving now, or null outside a rate-limited period. */
  limitedHeaders(key: string): Record<string, string> | null;
  /** Counts a request of `key` (e.g. `POST /faxes`) in progress; call the returned function when answered. */
  enter(key: string): () => void;
  /** The most requests of `key` that were in progress at once. */
  peakConcurrency(key: string): number;
}

export interface RateLimitOptions {
  /** `Retry-After` to send; default the whole seconds left of the period. */
  retryAfterSeconds?: number;
  /** Limit only this kind of request (`POST /faxes`); default every `/v2` request. */
  key?: string;
}

export function makeApiPacing(clock: () => number, initialLatencyMs = 0): ApiPacing {
  let latency = initialLatencyMs;
  let limitedUntil = 0;
  /** A period asked for whose clock starts with the next request. */
  let pendingMs: number | null = null;
  let fixedRetryAfter: number | null = null;
  let onlyKey: string | null = null;
  const current = new Map<string, number>();
  const peaks = new Map<string, number>();
  return {
    setLatency(ms) {
      latency = Math.max(0, ms);
    },
    latencyMs: () => latency,
    rateLimit(forMs, options = {}) {
      pendingMs = forMs;
      fixedRetryAfter = options.retryAfterSeconds ?? null;
      onlyKey = options.key ?? null;
    },
    limitedHeaders(key) {
      if (onlyKey !== null && key !== onlyKey) return null;
      if (pendingMs !== null) {
        limitedUntil = clock() + pendingMs;
        pendingMs = null;
      }
      const left = limitedUntil - clock();
      if (left <= 0) return null;
      const seconds = String(fixedRetryAfter ?? Math.ceil(left / 1000));
      return { 'retry-after': seconds, 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': seconds };
    },
    enter(key) {
      const now = (current.get(key) ?? 0) + 1;
      current.set(key, now);
      peaks.set(key, Math.max(peaks.get(key) ?? 0, now));
      let left = false;
      return () => {
        if (left) return;
        left = true;
        current.set(key, (current.get(key) ?? 1) - 1);
      };
    },
    peakConcurrency: (key) => peaks.get(key) ?? 0,
  };
}
