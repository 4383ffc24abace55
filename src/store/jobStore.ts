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

export type * from './types.js';

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
 * the network or enqueues side effects by itself (style.md anti-patterns): callers decide, the store records.
 */
export interface JobStore {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  // Intake
  findRecentMessage(
    sender: string,
    messageId: string,
    since: number,
  ): Promise<{ message: MessageRow; jobs: JobRow[] } | null>;
  acceptMessage(input: NewMessage, now: number): Promise<JobRow[]>;

  // Reading
  getJob(id: string): Promise<JobRow | null>;
  getMessage(id: string): Promise<MessageRow | null>;
  getDocument(id: string): Promise<DocumentRow | null>;
  listAttempts(jobId: string): Promise<AttemptRow[]>;
  listJobs(filter: JobFilter): Promise<JobRow[]>;
  countJobs(status: JobStatus): Promise<number>;

  // Workers: claim due jobs under a lease, then apply transitions while holding it.
  claimJobs(owner: string, now: number, leaseMs: number, limit: number): Promise<JobRow[]>;
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
}
