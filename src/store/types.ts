/*
 * Rows as the daemon sees them, shared by the SQLite and PostgreSQL stores. Times are epoch milliseconds.
 */

import type { JobStatus } from '../domain/jobStatus.js';

export type { JobStatus };

export interface DocumentRow {
  id: string;
  /** Key in the document storage (local path below data_dir/documents, or S3 key). */
  storage_key: string;
  sha256: string;
  size: number;
  pages: number;
  /** The name shown in receipts (the attachment's file name, or the merged name). */
  filename: string;
  created_at: number;
  /** Set when retention removed the bytes; the row keeps the metadata. */
  deleted_at: number | null;
}

export interface MessageRow {
  id: string;
  /** Header From address, lower-cased: who hears back. */
  sender: string;
  sender_name: string | null;
  envelope_from: string | null;
  /** Message-ID header of the incoming mail, used to thread receipts and to spot a client's resend. */
  message_id: string | null;
  subject: string | null;
  /** JSON array of the References header plus the message's own id, for threading. */
  references_json: string;
  document_id: string;
  session_id: string | null;
  received_at: number;
  /**
   * What makes a later mail a resend of this one (sender, Message-ID, document and recipients, hashed; see
   * domain/resendKey.ts), unique while the resend window lasts; NULL without a Message-ID or once released.
   */
  dedupe_key?: string | null;
  /**
   * JSON of what only a cover page needs from the mail (domain/coverInfo.ts): the body as comments and the
   * recipients' display names from the To header. NULL for mail taken before covers existed.
   */
  cover_json?: string | null;
}

export interface JobRow {
  id: string;
  message_row_id: string;
  to_number: string;
  from_number: string;
  sender: string;
  status: JobStatus;
  /** Number of the attempt in progress or last placed (0 before the first). */
  attempt: number;
  max_attempts: number;
  /** When a worker should next look at the job; null when it waits on Telnyx events only. */
  run_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  /** First API error since the last success, for retry.api_give_up. */
  api_error_since: number | null;
  api_errors: number;
  last_error: string | null;
  /** Telnyx failure_reason (or our own code such as `api_rejected`) of the final outcome. */
  failure_reason: string | null;
  failure_detail: string | null;
  pages_sent: number | null;
  duration_secs: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** One fax placed with Telnyx (or being placed) for a job. */
export type AttemptState = 'posting' | 'placed' | 'delivered' | 'failed';

export interface AttemptRow {
  job_id: string;
  attempt: number;
  state: AttemptState;
  /** base64 `<job-id>:<attempt>`: how events and GET /faxes find this attempt. */
  client_state: string;
  fax_id: string | null;
  /** Last Telnyx status seen (queued < media.processed < originated < sending < delivered|failed). */
  fax_status: string | null;
  started_at: number;
  placed_at: number | null;
  last_event_at: number | null;
  ended_at: number | null;
  failure_reason: string | null;
  pages: number | null;
  duration_secs: number | null;
}

export interface WebhookEventRow {
  id: string;
  event_type: string;
  fax_id: string | null;
  occurred_at: string | null;
  received_at: number;
  payload_json: string;
  /** Set once the event has been acted on (or deliberately ignored); unprocessed rows are retried. */
  processed_at: number | null;
  outcome: string | null;
}

export type OutboxKind =
  'receipt_accepted' | 'receipt_delivered' | 'receipt_failed' | 'inbound_fax' | 'admin_notice';

export interface OutboxRow {
  id: string;
  kind: OutboxKind;
  job_id: string | null;
  /** Free-form JSON for the composer (inbound fax id, notice text…). */
  payload_json: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}
