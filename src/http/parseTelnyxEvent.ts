/*
 * The body of a verified Telnyx webhook, read as an event: the envelope real deliveries use, the fields events are
 * routed on, and a guard on nesting before JSON.parse (docs/telnyx.md §5.1).
 */

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
  /**
   * The verified body as text: it is the envelope's JSON (`meta` included), kept as the audit copy without
   * stringifying the parsed body again.
   */
  json: string;
}

/**
 * Real events nest about five levels. A deeper one is refused as malformed (400) rather than recorded for the
 * readers of the stored copy, which walk it recursively; JSON.parse itself copes with thousands of levels.
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
 * wrapper-less shape from old doc samples is refused with 400 rather than guessed at. The body is parsed
 * here once; its text is what gets stored.
 */
export function tryParseTelnyxEvent(rawBody: Buffer): TelnyxEvent | null {
  if (jsonNestingExceeds(rawBody, MAX_JSON_DEPTH)) return null;
  const json = rawBody.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
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
    json,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
