import { createHash } from 'node:crypto';

import { PDFDocument, StandardFonts } from 'pdf-lib';

import { MINUTE } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { ActivityTracker } from './activity.js';
import { callDurationSecs, type InboundEventType, inboundPayload, makeEvent } from './events.js';
import type { FaxRecord, FaxStore } from './faxStore.js';
import type { MediaVault } from './mediaVault.js';
import type { InboundOptions } from './types.js';
import type { WebhookDispatcher } from './webhooks.js';

/**
 * An incoming fax (KB receive-a-fax-via-api.md; docs/telnyx.md §5.2): fax.receiving.started, then
 * fax.media.processing.started and fax.received with a signed, expiring PDF link, or fax.failed with
 * direction inbound. The PDF is generated here so tests can compare what the daemon downloaded.
 */
export interface InboundDeps {
  store: FaxStore;
  webhooks: WebhookDispatcher;
  tracker: ActivityTracker;
  vault: MediaVault;
  log: Logger;
  clock: () => number;
  userId: string;
  connectionId: string;
  stepMs: number;
  defaultWebhookUrl: string | null;
}

/** Telnyx documents the received media_url as valid for 10 minutes. */
export const DEFAULT_MEDIA_TTL_MS = 10 * MINUTE;
const MAX_INBOUND_PAGES = 350;

export async function startInboundFax(deps: InboundDeps, options: InboundOptions): Promise<FaxRecord> {
  const pages = options.pages ?? 1;
  if (!Number.isInteger(pages) || pages < 1 || pages > MAX_INBOUND_PAGES) {
    throw new RangeError(`pages must be an integer from 1 to ${MAX_INBOUND_PAGES}, got ${pages}`);
  }
  const pdf = await makeInboundPdf(options.from, options.to, pages);
  const record = deps.store.create({
    direction: 'inbound',
    status: 'initiated',
    connectionId: deps.connectionId,
    from: options.from,
    to: options.to,
    clientState: null,
    webhookUrl: options.webhookUrl ?? deps.defaultWebhookUrl,
    mediaUrl: null,
    request: null,
    rawRequest: null,
    outcome: { kind: 'deliver' },
  });
  record.inboundPdf = pdf;
  deps.store.update(record, {
    documentPages: pages,
    partial: options.partial === true,
    media: { sha256: createHash('sha256').update(pdf).digest('hex'), bytes: pdf.length, httpStatus: null },
  });
  deps.tracker.track(
    runInbound(deps, record, options).catch((thrown: unknown) =>
      deps.log.error({ err: thrown, fax: record.fax.id }, 'simulated inbound fax crashed'),
    ),
  );
  return record;
}

/** `POST /faxes/{id}/actions/refresh`: a fresh media_url for a received fax; a no-op for anything else. */
export function refreshInboundMedia(deps: InboundDeps, record: FaxRecord): void {
  if (record.fax.direction !== 'inbound' || record.fax.status !== 'received') return;
  const url = deps.vault.renew(record.fax.id);
  if (url !== null) deps.store.update(record, { mediaUrl: url });
}

async function runInbound(deps: InboundDeps, record: FaxRecord, options: InboundOptions): Promise<void> {
  const { fax } = record;
  const step = async () => {
    await deps.tracker.sleep(deps.stepMs);
    return !deps.tracker.signal.aborted;
  };
  if (!(await step())) return;
  deps.store.update(record, { status: 'receiving' });
  emit(deps, record, 'fax.receiving.started');
  if (!(await step())) return;

  if (options.failWith !== undefined) {
    deps.store.update(record, { status: 'failed', failureReason: options.failWith });
    emit(deps, record, 'fax.failed', { failure_reason: options.failWith });
    return;
  }
  const pages = fax.documentPages ?? 1;
  deps.store.update(record, { status: 'media.processing', pageCount: pages });
  emit(deps, record, 'fax.media.processing.started', { page_count: pages });
  if (!(await step())) return;

  const mediaUrl = deps.vault.issue(fax.id, options.mediaTtlMs ?? DEFAULT_MEDIA_TTL_MS);
  const duration = callDurationSecs(pages);
  deps.store.update(record, { status: 'received', mediaUrl, callDurationSecs: duration });
  emit(deps, record, 'fax.received', {
    media_url: mediaUrl,
    page_count: pages,
    call_duration_secs: duration,
    partial_content: fax.partial,
  });
}

function emit(
  deps: InboundDeps,
  record: FaxRecord,
  eventType: InboundEventType,
  extra: Record<string, unknown> = {},
) {
  const event = makeEvent(eventType, inboundPayload(record.fax, deps.userId, extra), deps.clock());
  deps.store.addEvent(record, event);
  deps.webhooks.send(record.fax.id, record.fax.webhookUrl, event);
}

/** A small real PDF, one line of text per page, so page counting and byte comparison are meaningful. */
async function makeInboundPdf(from: string, to: string, pages: number): Promise<Uint8Array> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  const safe = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');
  for (let number = 1; number <= pages; number++) {
    const page = document.addPage([612, 792]);
    const line = `Simulated fax from ${safe(from)} to ${safe(to)}, page ${number} of ${pages}`;
    page.drawText(line, { x: 72, y: 700, size: 14, font });
  }
  return document.save();
}
