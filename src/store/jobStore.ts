import type { ActivityCounts, AuditEntry, AuditSearch, InboundSearch, JobSearch } from './consoleTypes.js';
import type {
  InboundFaxChange,
  InboundFaxRow,
  InboundOutboxEntry,
  InboundResendResult,
  NewInboundFax,
} from './inboundTypes.js';
import type {
  AttemptRow,
  DocumentRow,
  JobRow,
  JobStatus,
  MessageRow,
  OutboxKind,
  OutboxRow,
  WebhookEventRow,
} from './types.js';

export type * from './consoleTypes.js';
export type * from './inboundTypes.js';
export type * from './types.js';

/** Faxes (jobs) and their pages a sender queued in a time window (per-sender limits). */
export interface SenderUsage {
  faxes: number;
  pages: number;
}

export interface NewJob {
  id: string;
  to_number: string;
  from_number: string;
}

export interface NewMessage {
  document: Omit<DocumentRow, 'deleted_at'>;
  message: MessageRow;
  jobs: NewJob[];
  max_attempts: number;
  /** Queue an "accepted" receipt in the same transaction (receipts.on_accepted). */
  accepted_receipt: boolean;
  /**
   * With `message.dedupe_key`: an earlier message holding that key and received since this time is the same
   * mail, so nothing is stored and its jobs are returned; an older holder gives the key up.
   */
  resend_since?: number;
}

/** The change a worker makes to a job it holds, applied atomically with its attempt and outbox rows. */
export interface JobUpdate {
  status?: JobStatus;
  run_at?: number | null;
  attempt?: number;
  last_error?: string | null;
  api_error_since?: number | null;
  api_errors?: number;
  failure_reason?: string | null;
  failure_detail?: string | null;
  pages_sent?: number | null;
  duration_secs?: number | null;
  finished_at?: number | null;
}

export interface AttemptUpdate {
  state?: AttemptRow['state'];
  fax_id?: string | null;
  fax_status?: string | null;
  placed_at?: number | null;
  last_event_at?: number | null;
  ended_at?: number | null;
  failure_reason?: string | null;
  pages?: number | null;
  duration_secs?: number | null;
}

export interface Transition {
  /**
   * Apply nothing unless this attempt is still in this state: the worker's "Telnyx accepted" must not
   * overwrite a final event that was processed while the POST was in flight.
   */
  onlyIfAttemptState?: { attempt: number; state: AttemptRow['state'] };
  job?: JobUpdate;
  /** Insert or update one attempt row (keyed by job and attempt number). */
  attempt?: { attempt: number; client_state?: string; started_at?: number } & AttemptUpdate;
  /** Delete the attempt row: the request certainly never reached Telnyx, so it was no attempt. */
  dropAttempt?: number;
  outbox?: Array<{ kind: OutboxKind; payload?: Record<string, unknown> }>;
}

/** What an event decision sees: the event and whatever it correlates to. */
export interface EventContext {
  event: WebhookEventRow;
  job: JobRow | null;
  attempt: AttemptRow | null;
}

export interface EventDecision {
  outcome: string;
  transition?: Transition;
}

export interface JobFilter {
  status?: JobStatus;
  limit?: number;
}

/**
 * Durable state. Every method that changes more than one row does it in one transaction; nothing here calls
 * the network or enqueues side effects by itself: callers decide, the store records.
 */
export interface JobStore {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  // Intake
  /** The message holding this resend key, received since `since`, and its jobs: a client resending a mail. */
  findResentMessage(
    dedupeKey: string,
    since: number,
  ): Promise<{ message: MessageRow; jobs: JobRow[] } | null>;
  /**
   * Stores the document, message and jobs atomically and returns the jobs. When another message already holds
   * `message.dedupe_key` within the resend window (two sessions racing with one mail), nothing is stored and
   * that message's jobs are returned instead: their `message_row_id` is not `input.message.id`.
   */
  acceptMessage(input: NewMessage, now: number): Promise<JobRow[]>;
  /** Jobs created for this (header From) sender since `since`, and their pages: the per-sender limits. */
  countSenderUsage(sender: string, since: number): Promise<SenderUsage>;

  // Reading
  getJob(id: string): Promise<JobRow | null>;
  getMessage(id: string): Promise<MessageRow | null>;
  getDocument(id: string): Promise<DocumentRow | null>;
  listAttempts(jobId: string): Promise<AttemptRow[]>;
  listJobs(filter: JobFilter): Promise<JobRow[]>;
  countJobs(status: JobStatus): Promise<number>;

  // Workers: claim due jobs under a lease, then apply transitions while holding it.
  claimJobs(owner: string, now: number, leaseMs: number, limit: number, dueBy?: number): Promise<JobRow[]>;
  /**
   * Frees every lease at start-up. Only for the embedded store, which one daemon owns: after a kill -9 its
   * jobs need not wait for their leases to run out. Absent on PostgreSQL, where other instances hold leases.
   */
  releaseOrphanedLeases?(): Promise<number>;
  renewLease(jobId: string, owner: string, until: number): Promise<boolean>;
  /** Applies the transition and releases the lease; false when the lease was lost (another worker owns it). */
  completeWork(jobId: string, owner: string, transition: Transition, now: number): Promise<boolean>;
  /** Applies a transition while keeping the lease (e.g. the "posting" row written before the API call). */
  applyWhileLeased(jobId: string, owner: string, transition: Transition, now: number): Promise<boolean>;

  // Webhooks: record fast, act later (and again after a crash).
  recordEvent(event: Omit<WebhookEventRow, 'processed_at' | 'outcome'>): Promise<'recorded' | 'duplicate'>;
  listUnprocessedEvents(limit: number): Promise<WebhookEventRow[]>;
  /**
   * Loads the event's job and attempt (by client_state, then fax id), lets `decide` choose, and applies the
   * decision and marks the event processed in one transaction. Returns null when it was already processed.
   */
  processEvent(
    eventId: string,
    correlate: { jobId: string | null; attempt: number | null; faxId: string | null },
    decide: (context: EventContext) => EventDecision,
    now: number,
  ): Promise<EventDecision | null>;
  forgetEvents(olderThan: number): Promise<number>;

  // Outbox
  claimOutbox(owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxRow[]>;
  markOutboxSent(id: string, owner: string, now: number): Promise<void>;
  markOutboxRetry(id: string, owner: string, runAt: number, error: string, dead: boolean): Promise<void>;
  countOutbox(status: OutboxRow['status']): Promise<number>;

  // Received faxes (docs/behaviour.md §7): one row per Telnyx fax id, worked under a lease like jobs.
  /**
   * Inserts the fax unless its id is known, with `outbox` rows (failure notices) in the same transaction; with
   * an `eventId`, also marks that webhook event processed (outcome `inbound_recorded`/`inbound_duplicate`).
   * 'duplicate' when the fax was already known or the event already processed: then nothing changes.
   */
  recordInboundFax(
    fax: NewInboundFax,
    outbox: InboundOutboxEntry[],
    eventId: string | null,
    now: number,
  ): Promise<'recorded' | 'duplicate'>;
  /** Leases due `received` rows (run_at <= now, lease free) and counts an attempt on each. */
  claimInboundFaxes(owner: string, now: number, leaseMs: number, limit: number): Promise<InboundFaxRow[]>;
  /**
   * Applies the change (document row, outbox rows, columns) and releases the lease, in one transaction; false
   * when `owner` no longer holds the lease (nothing changes then).
   */
  updateInboundFax(faxId: string, owner: string, change: InboundFaxChange, now: number): Promise<boolean>;
  getInboundFax(faxId: string): Promise<InboundFaxRow | null>;

  // Retention (docs/behaviour.md §9)
  /**
   * Documents created before `before`, not yet deleted, and not used by a job still in progress
   * (queued or placed), oldest first.
   */
  listExpiredDocuments(before: number, limit: number): Promise<DocumentRow[]>;
  /** Sets deleted_at (the bytes are gone from storage; the row keeps the metadata). */
  markDocumentDeleted(documentId: string, now: number): Promise<void>;

  // Operator (the `faxbridge job`, `retry` and `cancel` commands)
  /**
   * Leases one job whatever its run_at, when it is queued or placed and no live lease is held on it; null
   * otherwise. Release it with completeWork (an empty transition changes nothing but the lease).
   */
  leaseJob(jobId: string, owner: string, now: number, leaseMs: number): Promise<JobRow | null>;
  /**
   * Queues a new job (id `newId`, due now, attempt 0, `maxAttempts`) for the same message, number and sender
   * as a failed or canceled job, which keeps its own history; null when the job is missing or not finished so.
   */
  retryJob(jobId: string, newId: string, maxAttempts: number, now: number): Promise<JobRow | null>;
  /**
   * Stores the PDF a job transmits (a document row) and links it to the job, while `owner` holds the lease;
   * false, storing nothing, when the lease was lost or the job already has one (the first one built stands).
   */
  recordTransmittedDocument(
    jobId: string,
    owner: string,
    document: Omit<DocumentRow, 'deleted_at'>,
  ): Promise<boolean>;
  /** The document a job transmitted (cover, header lines, document), or null before its first attempt. */
  getTransmittedDocument(jobId: string): Promise<DocumentRow | null>;
  /** Every job of one accepted message (one per recipient, plus retries), oldest first. */
  listJobsOfMessage(messageRowId: string): Promise<JobRow[]>;
  /** The job's receipts and notices, oldest first. */
  listOutboxOfJob(jobId: string): Promise<OutboxRow[]>;
  /** Notes on a sent receipt that it bounced (docs/behaviour.md §6); false when there is no such receipt. */
  recordReceiptBounce(jobId: string, kind: OutboxKind, detail: string): Promise<boolean>;
  /** Recorded webhook events of these Telnyx fax ids, in the order they occurred. */
  listEventsOfFaxes(faxIds: readonly string[]): Promise<WebhookEventRow[]>;

  // Web console: keyset-paged searches (indexed on both dialects) and the audit trail of document views.
  /** Jobs matching every given criterion, newest first, at most `limit`, strictly after `before`. */
  searchJobs(search: JobSearch): Promise<JobRow[]>;
  /** Received faxes matching every given criterion, newest first, at most `limit`, strictly after `before`. */
  searchInboundFaxes(search: InboundSearch): Promise<InboundFaxRow[]>;
  recordAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries, newest first. */
  listAudit(search: AuditSearch): Promise<AuditEntry[]>;
  /** Deletes audit entries older than `olderThan` (retention); returns how many. */
  forgetAudit(olderThan: number): Promise<number>;
  /** Jobs finished delivered or failed, and faxes received, since `since`. */
  countActivity(since: number): Promise<ActivityCounts>;
  /**
   * Queues a received fax's mail again (the console's re-send) with its audit entry, in one transaction, once
   * per `resendId` (`already` the second time); `gone`, writing nothing, when the fax is unknown or its
   * document was deleted.
   */
  queueInboundResend(
    faxId: string,
    resendId: string,
    entry: InboundOutboxEntry,
    audit: AuditEntry,
    now: number,
  ): Promise<InboundResendResult>;
}
