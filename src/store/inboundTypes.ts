/*
 * Received faxes (docs/behaviour.md §7), shared by the SQLite and PostgreSQL stores. Times are epoch
 * milliseconds. The work on a received fax is driven from its row, never from memory: a crash at any point
 * leaves a row a worker picks up again, and every state change that queues mail inserts the outbox rows in
 * the same transaction.
 */
import type { DocumentRow, OutboxKind } from './types.js';

/**
 * - `received`: Telnyx reported the fax; its PDF is still to be downloaded (workers claim these when due).
 * - `mailed`: the PDF is stored and the mail to the routed addresses is queued in the outbox.
 * - `unrouted`: the PDF is stored but nobody could be mailed (no route, no `*`, no `admin`): logged loudly.
 * - `failed`: Telnyx reported the inbound fax as failed; the notice is queued.
 * - `abandoned`: the PDF could not be downloaded in time, even after refreshing the URL; notices are queued.
 */
export type InboundFaxStatus = 'received' | 'mailed' | 'unrouted' | 'failed' | 'abandoned';

export interface InboundFaxRow {
  /** Telnyx fax id: one row per received fax, whatever duplicates arrive. */
  fax_id: string;
  status: InboundFaxStatus;
  /** The caller as Telnyx reported it: not always E.164 (anonymous callers, SIP URIs). */
  from_number: string | null;
  /** The called number, one of ours; routing looks it up. */
  to_number: string;
  pages: number | null;
  /** Telnyx `partial_content`: the call ended before every page arrived. */
  partial: boolean;
  duration_secs: number | null;
  /** Latest known download URL (it expires in about 10 minutes; refreshed on demand). */
  media_url: string | null;
  /** Telnyx failure_reason for a failed fax, or our own code for an abandoned download. */
  failure_reason: string | null;
  /** Set with status `mailed`/`unrouted`: the stored PDF. */
  document_id: string | null;
  /** Download attempts so far (a claim counts one). */
  attempts: number;
  /** When a worker should next try the download; null when there is nothing left to do. */
  run_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  /** When the admin was told that the download keeps failing (told once). */
  admin_notified_at: number | null;
  /** When the fax arrived (the event's occurred_at, else when we learned of it). */
  received_at: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** What a `fax.received` / inbound `fax.failed` event (or the missed-fax poll) records. */
export interface NewInboundFax {
  fax_id: string;
  status: 'received' | 'failed';
  from_number: string | null;
  to_number: string;
  pages: number | null;
  partial: boolean;
  duration_secs: number | null;
  media_url: string | null;
  failure_reason: string | null;
  received_at: number;
}

/** A console re-send: `already` when this very request (its form's re-send id) was queued before (a double click). */
export type InboundResendResult = 'queued' | 'already' | 'gone';

export interface InboundOutboxEntry {
  kind: OutboxKind;
  payload: Record<string, unknown>;
}

/** The change a worker makes to an inbound fax it holds; applied with its document and outbox rows at once. */
export interface InboundFaxChange {
  status?: InboundFaxStatus;
  run_at?: number | null;
  media_url?: string | null;
  pages?: number | null;
  failure_reason?: string | null;
  last_error?: string | null;
  admin_notified_at?: number | null;
  finished_at?: number | null;
  /** Inserted into `documents`, and the row's document_id set to it. */
  document?: Omit<DocumentRow, 'deleted_at'>;
  outbox?: InboundOutboxEntry[];
}

/** Columns an InboundFaxChange may set (the only identifiers interpolated into SQL, in both dialects). */
export const INBOUND_UPDATE_COLUMNS = [
  'status',
  'run_at',
  'media_url',
  'pages',
  'failure_reason',
  'last_error',
  'admin_notified_at',
  'finished_at',
] as const satisfies ReadonlyArray<keyof InboundFaxChange>;
