/*
 * What the web console asks of the store beyond the workers' and the CLI's operations: searches that page by
 * key (never OFFSET, which reads and throws away every skipped row) and the audit trail of document views.
 * Times are epoch milliseconds.
 */
import type { JobStatus } from './types.js';

/** Newest first; `before` is the last row of the previous page (created_at, then id, break ties). */
export interface JobSearch {
  /** Only jobs of this (lower-cased header From) sender. */
  sender?: string;
  /** Destination numbers starting with this text (`+1555` finds `+15550001111`). */
  toNumberPrefix?: string;
  status?: JobStatus;
  /** created_at >= createdFrom. */
  createdFrom?: number;
  /** created_at < createdBefore. */
  createdBefore?: number;
  before?: { created_at: number; id: string };
  limit: number;
}

/** Which called numbers a reader may see: all, only these, or all but these. */
export type NumberScope = { in: readonly string[] } | { notIn: readonly string[] };

/** Newest first; `before` is the last row of the previous page (received_at, then fax_id). */
export interface InboundSearch {
  numbers?: NumberScope;
  /** Callers starting with this text. */
  fromNumberPrefix?: string;
  /** Called numbers starting with this text. */
  toNumberPrefix?: string;
  receivedFrom?: number;
  receivedBefore?: number;
  before?: { received_at: number; fax_id: string };
  limit: number;
}

/** One line of the console's audit log: who did what to which object, when, from which address. */
export interface AuditEntry {
  id: string;
  at: number;
  /** The signed-in email, or `sandbox` when the console needs no sign-in. */
  actor: string;
  /** `preview`, `download`, `sign_in`, `sign_in_refused`, `send`, `retry`, `cancel`. */
  action: string;
  /** `job`, `inbound`, `session`. */
  object_type: string;
  object_id: string;
  address: string;
  detail: string | null;
}

export interface AuditSearch {
  before?: { at: number; id: string };
  limit: number;
}

/** Counts for the health page since a moment (start of today). */
export interface ActivityCounts {
  delivered: number;
  failed: number;
  received: number;
}
