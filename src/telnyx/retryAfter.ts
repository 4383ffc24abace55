/** Response headers as undici returns them: lower-case names, repeated headers as arrays. */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

const SECOND_MS = 1000;
/**
 * `x-ratelimit-reset` is documented as "seconds until the limit resets" (docs/telnyx.md §4), but some APIs
 * send an epoch timestamp under the same name. No real wait is anywhere near 30 years, so larger values are
 * read as epoch seconds instead of as a delay that would park the job forever.
 */
const EPOCH_SECONDS_THRESHOLD = 1e9;
const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
/** All three HTTP-date forms start with a day name; `Date.parse` alone would also accept `-3` (year -3). */
const HTTP_DATE_START = /^[A-Za-z]{3}/;

function header(headers: ResponseHeaders, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

function secondsToMs(text: string): number | null {
  return DELTA_SECONDS.test(text) ? Math.ceil(Number(text) * SECOND_MS) : null;
}

/**
 * How long Telnyx asks us to wait, in ms, or null when it does not say. Telnyx documents only
 * `x-ratelimit-reset` (seconds); `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) wins when a proxy
 * or a future API version sends it. A date in the past means "now" (0).
 */
export function parseRetryAfter(headers: ResponseHeaders, nowMs: number = Date.now()): number | null {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const delay = secondsToMs(retryAfter);
    if (delay !== null) return delay;
    const date = HTTP_DATE_START.test(retryAfter) ? Date.parse(retryAfter) : NaN;
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = header(headers, 'x-ratelimit-reset');
  if (reset !== undefined) {
    const seconds = DELTA_SECONDS.test(reset) ? Number(reset) : NaN;
    if (seconds >= EPOCH_SECONDS_THRESHOLD) return Math.max(0, Math.ceil(seconds * SECOND_MS - nowMs));
    if (!Number.isNaN(seconds)) return Math.ceil(seconds * SECOND_MS);
  }
  return null;
}
