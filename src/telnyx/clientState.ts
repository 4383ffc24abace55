/**
 * `client_state` ties a Telnyx fax back to one attempt of one job: base64 of `<jobId>:<attempt>`
 * (docs/behaviour.md §4). Telnyx requires the value to be valid Base64 and echoes it unchanged in webhooks
 * and in `GET /faxes`, so the decoder is strict: anything we did not produce ourselves (another app on the
 * same Telnyx account) is null.
 */

/** Standard alphabet with padding, as `Buffer.toString('base64')` writes it. */
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ATTEMPT = /^(?:0|[1-9]\d{0,8})$/;

export function encodeClientState(jobId: string, attempt: number): string {
  if (jobId.length === 0) throw new RangeError('client_state needs a job id');
  if (!Number.isSafeInteger(attempt) || attempt < 0 || !ATTEMPT.test(String(attempt))) {
    throw new RangeError(`client_state attempt must be a non-negative integer, got ${attempt}`);
  }
  return Buffer.from(`${jobId}:${attempt}`, 'utf8').toString('base64');
}

export function decodeClientState(
  value: string | null | undefined,
): { jobId: string; attempt: number } | null {
  if (!value || !CANONICAL_BASE64.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  const text = bytes.toString('utf8');
  // Reject bytes that are not UTF-8: they would not survive the round trip and cannot be one of our job ids.
  if (!Buffer.from(text, 'utf8').equals(bytes)) return null;
  // Split at the last colon so that a job id containing ':' still decodes.
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const attemptText = text.slice(colon + 1);
  if (!ATTEMPT.test(attemptText)) return null;
  return { jobId: text.slice(0, colon), attempt: Number(attemptText) };
}
