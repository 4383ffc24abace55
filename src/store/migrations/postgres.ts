/**
 * Numbered, forward-only migrations for PostgreSQL: the same tables as `sqlite.ts`, in PostgreSQL types.
 * Rules (as for SQLite): never edit a migration that has shipped, add the next number; every statement must
 * work for a database that several instances share, because a rolling upgrade runs old and new code against
 * the migrated schema for a while (add columns and tables, don't rename or drop in the same release).
 *
 * - Times are epoch milliseconds in BIGINT; the store's pool parses int8 as a JS number (safe below 2^53).
 * - Unqualified names: the connection's search_path picks the schema (see postgres/connectionConfig.ts).
 * - `jobs.seq` only orders rows the way SQLite's rowid does (a message's jobs in recipient order); it is not
 *   part of JobRow and the store never selects it.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  storage_key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  pages INTEGER NOT NULL,
  filename TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  sender_name TEXT,
  envelope_from TEXT,
  message_id TEXT,
  subject TEXT,
  references_json TEXT NOT NULL DEFAULT '[]',
  document_id TEXT NOT NULL REFERENCES documents(id),
  session_id TEXT,
  received_at BIGINT NOT NULL
);
CREATE INDEX messages_resend ON messages (sender, message_id, received_at);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  message_row_id TEXT NOT NULL REFERENCES messages(id),
  to_number TEXT NOT NULL,
  from_number TEXT NOT NULL,
  sender TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_at BIGINT,
  lease_owner TEXT,
  lease_until BIGINT,
  api_error_since BIGINT,
  api_errors INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  failure_reason TEXT,
  failure_detail TEXT,
  pages_sent INTEGER,
  duration_secs INTEGER,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
-- The claim query walks this index in (run_at, id) order and skips rows other instances have locked.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status IN ('queued', 'placed') AND run_at IS NOT NULL;
CREATE INDEX jobs_message ON jobs (message_row_id, seq);
CREATE INDEX jobs_listing ON jobs (status, created_at);
CREATE TABLE attempts (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  client_state TEXT NOT NULL,
  fax_id TEXT UNIQUE,
  fax_status TEXT,
  started_at BIGINT NOT NULL,
  placed_at BIGINT,
  last_event_at BIGINT,
  ended_at BIGINT,
  failure_reason TEXT,
  pages INTEGER,
  duration_secs INTEGER,
  PRIMARY KEY (job_id, attempt)
);
CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  fax_id TEXT,
  occurred_at TEXT,
  received_at BIGINT NOT NULL,
  payload_json TEXT NOT NULL,
  processed_at BIGINT,
  outcome TEXT
);
CREATE INDEX webhook_events_pending ON webhook_events (received_at, id) WHERE processed_at IS NULL;
CREATE INDEX webhook_events_received ON webhook_events (received_at);
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  job_id TEXT,
  payload_json TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  run_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (run_at, id) WHERE status = 'pending';
-- One receipt of each kind per job, whatever replays happen.
CREATE UNIQUE INDEX outbox_once ON outbox (job_id, kind) WHERE job_id IS NOT NULL;
`,
  },
  {
    // Received faxes (docs/behaviour.md §7); columns are documented on InboundFaxRow
    // (src/store/inboundTypes.ts).
    version: 2,
    sql: `
CREATE TABLE inbound_faxes (
  fax_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  from_number TEXT,
  to_number TEXT NOT NULL,
  pages INTEGER,
  partial BOOLEAN NOT NULL DEFAULT false,
  duration_secs INTEGER,
  media_url TEXT,
  failure_reason TEXT,
  document_id TEXT REFERENCES documents(id),
  attempts INTEGER NOT NULL DEFAULT 0,
  run_at BIGINT,
  lease_owner TEXT,
  lease_until BIGINT,
  last_error TEXT,
  admin_notified_at BIGINT,
  received_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  finished_at BIGINT
);
CREATE INDEX inbound_faxes_due ON inbound_faxes (run_at, fax_id) WHERE status = 'received';
-- Retention looks for old documents that still have bytes.
CREATE INDEX documents_live ON documents (created_at) WHERE deleted_at IS NULL;
`,
  },
  {
    // Per-sender limits count a sender's recent jobs at every RCPT (smtp/rateLimits.ts).
    version: 3,
    sql: `CREATE INDEX jobs_sender_recent ON jobs (sender, created_at);`,
  },
  {
    // A resend (same sender, Message-ID, document and recipients) must be taken once even when two sessions
    // deliver it at the same instant: the unique key makes the check and the insert one atomic step. Messages
    // without a Message-ID, and those whose resend window has passed, hold NULL (NULLs never collide).
    version: 4,
    sql: `
ALTER TABLE messages ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key);
`,
  },
  {
    // What goes on the wire: the cover page needs the mail's body and the recipients' display names, which are
    // not kept elsewhere (NULL for mail taken before this version: no comments, no names); and each job keeps
    // the PDF it transmitted (cover, header lines, document), built before its first attempt, as a document row
    // of its own so retention deletes it like any other.
    version: 5,
    sql: `
ALTER TABLE messages ADD COLUMN cover_json TEXT;
ALTER TABLE jobs ADD COLUMN transmitted_document_id TEXT REFERENCES documents(id);
`,
  },
  {
    // The web console: its searches page by (time, id) keys, newest first, so each page is an index range
    // however many rows lie behind it; document views and downloads are written to an audit table.
    version: 6,
    sql: `
CREATE TABLE console_audit (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  address TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX console_audit_recent ON console_audit (at, id);
CREATE INDEX jobs_recent ON jobs (created_at, id);
CREATE INDEX jobs_status_recent ON jobs (status, created_at, id);
CREATE INDEX jobs_sender_page ON jobs (sender, created_at, id);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX inbound_faxes_recent ON inbound_faxes (received_at, fax_id);
CREATE INDEX inbound_faxes_called ON inbound_faxes (to_number, received_at, fax_id);
`,
  },
];
