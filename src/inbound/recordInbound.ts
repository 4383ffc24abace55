/**
 * Turning what Telnyx tells us about a received (or failed) incoming fax into a durable `inbound_faxes` row,
 * from a webhook event or from the missed-webhook poll alike. One row per fax id: duplicates, replays and the
 * poll racing a webhook all end in one row, so in one email.
 */
import type { Ctx } from '../context.js';
import type { InboundOutboxEntry, NewInboundFax } from '../store/jobStore.js';
import type { TelnyxFax } from '../telnyx/client.js';
import { inboundMailEntry, routeInbound } from './routing.js';

/** Counted for /metrics (`faxbridge_inbound_received_total`, `faxbridge_inbound_unrouted_total`). */
export interface InboundCounters {
  received(): void;
  unrouted(): void;
}

export interface RecordDeps extends Pick<Ctx, 'config' | 'store' | 'clock' | 'log'> {
  counters?: InboundCounters;
  /** A received fax was recorded: its download is due now. */
  onRecorded?: () => void;
  /** Mail was queued in the outbox. */
  onQueued?: () => void;
}

/** From a `fax.received` or inbound `fax.failed` payload (docs/telnyx.md §5.2); null without a fax id. */
export function inboundFromPayload(
  eventType: string,
  payload: Record<string, unknown>,
  occurredAt: string | null,
  now: number,
): NewInboundFax | null {
  const faxId = text(payload.fax_id);
  if (!faxId) return null;
  const occurred = occurredAt ? Date.parse(occurredAt) : NaN;
  return {
    fax_id: faxId,
    status: eventType === 'fax.failed' ? 'failed' : 'received',
    from_number: text(payload.from) ?? text(payload.caller_id),
    to_number: text(payload.to) ?? '',
    pages: count(payload.page_count),
    partial: payload.partial_content === true,
    duration_secs: count(payload.call_duration_secs),
    media_url: text(payload.media_url),
    failure_reason: text(payload.failure_reason),
    received_at: Number.isFinite(occurred) ? occurred : now,
  };
}

/** From the Fax resource (`GET /faxes`); null unless the fax has finished arriving (received or failed). */
export function inboundFromFax(fax: TelnyxFax, now: number): NewInboundFax | null {
  if (fax.direction !== 'inbound' || (fax.status !== 'received' && fax.status !== 'failed')) return null;
  const updated = Date.parse(fax.updated_at ?? fax.created_at);
  return {
    fax_id: fax.id,
    status: fax.status,
    from_number: text(fax.from),
    to_number: text(fax.to) ?? '',
    pages: count(fax.page_count),
    partial: fax.partial_content === true,
    duration_secs: count(fax.call_duration_secs),
    media_url: text(fax.media_url),
    failure_reason: text(fax.failure_reason),
    received_at: Number.isFinite(updated) ? updated : now,
  };
}

/**
 * Records the fax (and, for a failed one, the notice to its routed addresses in the same transaction).
 * With `eventId`, the webhook event is marked processed in that transaction too.
 */
export async function recordInbound(
  deps: RecordDeps,
  fax: NewInboundFax,
  eventId: string | null,
): Promise<'recorded' | 'duplicate'> {
  const { store, clock, config } = deps;
  const log = deps.log.child({ fax: fax.fax_id });
  const route = fax.status === 'failed' ? routeInbound(config, fax.to_number) : null;
  const outbox: InboundOutboxEntry[] = route
    ? [
        inboundMailEntry({
          fax_id: fax.fax_id,
          mail: 'failed',
          to: route.recipients,
          unrouted: route.unrouted,
        }),
      ]
    : [];
  const result = await store.recordInboundFax(fax, outbox, eventId, clock.now());
  if (result === 'duplicate') {
    log.debug({ event: eventId }, 'inbound fax already known');
    return result;
  }
  const fields = { from: fax.from_number, to: fax.to_number, pages: fax.pages, event: eventId };
  if (fax.status === 'received') {
    log.info({ ...fields, partial: fax.partial }, 'fax received; downloading it');
    deps.onRecorded?.();
    return result;
  }
  log.warn({ ...fields, reason: fax.failure_reason }, 'incoming fax failed');
  if (!route) {
    deps.counters?.unrouted();
    log.error(
      { to: fax.to_number },
      'incoming fax failed and nobody can be told: no route, no "*", no admin',
    );
  } else if (route.unrouted) {
    deps.counters?.unrouted();
    log.warn({ to: fax.to_number }, 'no inbound route for the called number; the admin is told instead');
  }
  if (outbox.length > 0) deps.onQueued?.();
  return result;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}
