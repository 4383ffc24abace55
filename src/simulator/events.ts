import { randomUUID } from 'node:crypto';

import type { SimEvent, SimFax } from './types.js';

/**
 * Builds webhook events shaped as Telnyx sends them (docs/telnyx.md §5 and §8): the `data` object
 * `{record_type:'event', id, event_type, occurred_at, payload}`; the delivery adds `meta{attempt,delivered_to}`.
 */
export type OutboundEventType =
  'fax.queued' | 'fax.media.processed' | 'fax.sending.started' | 'fax.delivered' | 'fax.failed';

export type InboundEventType =
  'fax.receiving.started' | 'fax.media.processing.started' | 'fax.received' | 'fax.failed';

/** Telnyx writes microseconds (`2026-08-22T10:01:43.677850Z`); our clock has milliseconds, so pad. */
export function occurredAt(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export function makeEvent(eventType: string, payload: Record<string, unknown>, nowMs: number): SimEvent {
  return {
    record_type: 'event',
    id: randomUUID(),
    event_type: eventType,
    occurred_at: occurredAt(nowMs),
    payload,
  };
}

/**
 * Outbound payloads carry fax_id, connection_id, direction, from, to, user_id, status, the echoed
 * client_state, and `original_media_url`; `extra` adds page_count/call_duration_secs or failure_reason.
 */
export function outboundPayload(
  fax: SimFax,
  userId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    fax_id: fax.id,
    connection_id: fax.connectionId,
    direction: 'outbound',
    from: fax.from,
    to: fax.to,
    original_media_url: fax.mediaUrl,
    status: fax.status,
    user_id: userId,
  };
  if (fax.clientState !== null) payload.client_state = fax.clientState;
  return { ...payload, ...extra };
}

/**
 * Inbound payloads (KB receive-a-fax-via-api.md): no client_state, and `caller_id` besides `from`.
 * `extra` adds page_count, media_url, call_duration_secs, partial_content or failure_reason.
 */
export function inboundPayload(
  fax: SimFax,
  userId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    fax_id: fax.id,
    connection_id: fax.connectionId,
    direction: 'inbound',
    from: fax.from,
    to: fax.to,
    caller_id: fax.from,
    status: fax.status,
    user_id: userId,
    ...extra,
  };
}

/** A plausible call length: about half a minute per page plus call setup. */
export function callDurationSecs(pages: number): number {
  return 12 + 28 * pages;
}

/** Final events end a fax's stream of events (this flushes reverse-mode buffers). */
export function isFinalEvent(eventType: string): boolean {
  return eventType === 'fax.delivered' || eventType === 'fax.failed' || eventType === 'fax.received';
}
