import { randomUUID } from 'node:crypto';

import type { PlannedOutcome } from './outcomes.js';
import type { FaxDirection, FaxStatus, SimEvent, SimFax } from './types.js';

/** A fax plus what only the simulator needs: how it will end and how to stop its lifecycle. */
export interface FaxRecord {
  fax: SimFax;
  /** Aborted by `cancel` so that an in-flight media fetch or step stops early. */
  cancel: AbortController;
  outcome: PlannedOutcome;
  /** Inbound only: the generated PDF served behind the signed media URL. */
  inboundPdf: Uint8Array | null;
}

export interface NewFax {
  direction: FaxDirection;
  status: FaxStatus;
  connectionId: string;
  from: string;
  to: string;
  clientState: string | null;
  webhookUrl: string | null;
  mediaUrl: string | null;
  request: Record<string, unknown> | null;
  rawRequest: string | null;
  outcome: PlannedOutcome;
}

export interface FaxStore {
  create(init: NewFax): FaxRecord;
  /** Undefined for unknown and deleted faxes, as the API sees them. */
  get(id: string): FaxRecord | undefined;
  /** Every fax ever created, deleted ones included, oldest first. */
  all(): FaxRecord[];
  update(record: FaxRecord, patch: Partial<SimFax>): void;
  addEvent(record: FaxRecord, event: SimEvent): void;
}

/** Timestamps as Telnyx writes them: ISO 8601 UTC. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function makeFaxStore(clock: () => number): FaxStore {
  const records = new Map<string, FaxRecord>();

  return {
    create(init) {
      const now = isoTime(clock());
      const fax: SimFax = {
        id: randomUUID(),
        direction: init.direction,
        status: init.status,
        statusHistory: [init.status],
        connectionId: init.connectionId,
        from: init.from,
        to: init.to,
        clientState: init.clientState,
        webhookUrl: init.webhookUrl,
        mediaUrl: init.mediaUrl,
        request: init.request,
        rawRequest: init.rawRequest,
        createdAt: now,
        updatedAt: now,
        failureReason: null,
        pageCount: null,
        documentPages: null,
        callDurationSecs: null,
        media: null,
        partial: false,
        deleted: false,
        events: [],
      };
      const record: FaxRecord = {
        fax,
        cancel: new AbortController(),
        outcome: init.outcome,
        inboundPdf: null,
      };
      records.set(fax.id, record);
      return record;
    },
    get(id) {
      const record = records.get(id);
      return record && !record.fax.deleted ? record : undefined;
    },
    all: () => [...records.values()],
    update(record, patch) {
      const { fax } = record;
      if (patch.status !== undefined && patch.status !== fax.status) fax.statusHistory.push(patch.status);
      Object.assign(fax, patch, { updatedAt: isoTime(clock()) });
    },
    addEvent(record, event) {
      record.fax.events.push(event);
    },
  };
}

/** The SPEC `Fax` resource (plus NODE's `failure_reason`/`internal_failure_reason`) for API answers. */
export function toApiFax(fax: SimFax): Record<string, unknown> {
  const request = fax.request ?? {};
  const resource: Record<string, unknown> = {
    record_type: 'fax',
    id: fax.id,
    connection_id: fax.connectionId,
    direction: fax.direction,
    from: fax.from,
    to: fax.to,
    status: fax.status,
    webhook_url: fax.webhookUrl ?? '',
    webhook_failover_url: '',
    created_at: fax.createdAt,
    updated_at: fax.updatedAt,
    failure_reason: fax.failureReason,
    internal_failure_reason: fax.failureReason,
  };
  if (fax.mediaUrl !== null) resource.media_url = fax.mediaUrl;
  if (fax.clientState !== null) resource.client_state = fax.clientState;
  if (fax.direction === 'outbound') {
    resource.quality = typeof request.quality === 'string' ? request.quality : 'high';
    resource.store_media = request.store_media === true;
    if (typeof request.from_display_name === 'string') resource.from_display_name = request.from_display_name;
  }
  return resource;
}
