import type { Dispatcher } from 'undici';

import type { Logger } from '../log.js';
import type { ActivityTracker } from './activity.js';
import { callDurationSecs, makeEvent, type OutboundEventType, outboundPayload } from './events.js';
import type { FaxRecord, FaxStore } from './faxStore.js';
import { fetchMedia } from './mediaFetch.js';
import type { OutcomePlanner } from './outcomes.js';
import type { SendFaxInput } from './validation.js';
import type { WebhookDispatcher } from './webhooks.js';

/**
 * The life of an outbound fax after `POST /faxes` answered 202: fax.queued, fetch the media, then
 * fax.media.processed, fax.sending.started and fax.delivered, or fax.failed at the first thing that goes wrong
 * (SPEC "Expected Webhooks"; docs/telnyx.md §5.2). Steps are `stepMs` apart.
 */
export interface OutboundDeps {
  store: FaxStore;
  planner: OutcomePlanner;
  webhooks: WebhookDispatcher;
  tracker: ActivityTracker;
  dispatcher: Dispatcher;
  log: Logger;
  clock: () => number;
  userId: string;
  stepMs: number;
  fetchTimeoutMs: number;
  maxBytes: number;
  maxPages: number;
  defaultWebhookUrl: string | null;
}

/** SPEC CancelFax: only an outbound fax in one of these states can be cancelled. */
const CANCELLABLE = new Set(['queued', 'media.processed', 'originated', 'sending']);

export function createOutboundFax(
  deps: OutboundDeps,
  input: SendFaxInput,
  request: Record<string, unknown>,
  rawRequest: string,
): FaxRecord {
  const record = deps.store.create({
    direction: 'outbound',
    status: 'queued',
    connectionId: input.connectionId,
    from: input.from,
    to: input.to,
    clientState: input.clientState,
    webhookUrl: input.webhookUrl ?? deps.defaultWebhookUrl,
    mediaUrl: input.mediaUrl,
    request,
    rawRequest,
    outcome: deps.planner.plan(input.to),
  });
  deps.tracker.track(
    runOutbound(deps, record).catch((thrown: unknown) =>
      deps.log.error({ err: thrown, fax: record.fax.id }, 'simulated outbound fax crashed'),
    ),
  );
  return record;
}

/** Returns false when the fax cannot be cancelled (inbound, or already past sending). */
export function cancelOutboundFax(deps: OutboundDeps, record: FaxRecord): boolean {
  if (record.fax.direction !== 'outbound' || !CANCELLABLE.has(record.fax.status)) return false;
  record.cancel.abort();
  failFax(deps, record, 'sender_canceled');
  return true;
}

async function runOutbound(deps: OutboundDeps, record: FaxRecord): Promise<void> {
  const { fax } = record;
  // A cancel (or close) flips the fax to failed / aborts the tracker; every step re-checks after waiting.
  const stillRunning = () => !deps.tracker.signal.aborted && fax.status !== 'failed';
  const step = async () => {
    await deps.tracker.sleep(deps.stepMs);
    return stillRunning();
  };

  if (!(await step())) return;
  emit(deps, record, 'fax.queued');

  const media = await fetchMedia(fax.mediaUrl ?? '', {
    dispatcher: deps.dispatcher,
    signal: AbortSignal.any([deps.tracker.signal, record.cancel.signal]),
    timeoutMs: deps.fetchTimeoutMs,
    maxBytes: deps.maxBytes,
    maxPages: deps.maxPages,
  });
  if (!stillRunning()) return;
  deps.store.update(record, {
    media:
      media.sha256 === null
        ? null
        : { sha256: media.sha256, bytes: media.bytes, httpStatus: media.httpStatus },
    documentPages: media.pages,
  });
  if (!(await step())) return;
  if (!media.ok) {
    deps.log.info(
      { fax: fax.id, reason: media.failureReason, detail: media.detail },
      'simulated media failure',
    );
    return failFax(deps, record, media.failureReason);
  }

  deps.store.update(record, { status: 'media.processed' });
  emit(deps, record, 'fax.media.processed');
  if (!(await step())) return;

  // `originated` has no webhook of its own (SPEC); it is visible through GET /faxes/{id} only.
  deps.store.update(record, { status: 'originated' });
  deps.store.update(record, { status: 'sending' });
  emit(deps, record, 'fax.sending.started');
  if (record.outcome.kind === 'stuck') return;
  if (!(await step())) return;

  if (record.outcome.kind === 'fail') return failFax(deps, record, record.outcome.failureReason);
  const pages = record.outcome.kind === 'partial' ? Math.max(1, Math.floor(media.pages / 2)) : media.pages;
  const duration = callDurationSecs(pages);
  deps.store.update(record, { status: 'delivered', pageCount: pages, callDurationSecs: duration });
  emit(deps, record, 'fax.delivered', { page_count: pages, call_duration_secs: duration });
}

function failFax(deps: OutboundDeps, record: FaxRecord, failureReason: string): void {
  deps.store.update(record, { status: 'failed', failureReason });
  emit(deps, record, 'fax.failed', { failure_reason: failureReason });
}

function emit(
  deps: OutboundDeps,
  record: FaxRecord,
  eventType: OutboundEventType,
  extra: Record<string, unknown> = {},
): void {
  const event = makeEvent(eventType, outboundPayload(record.fax, deps.userId, extra), deps.clock());
  deps.store.addEvent(record, event);
  deps.webhooks.send(record.fax.id, record.fax.webhookUrl, event);
}
