import type { AttemptRow, JobRow, Transition } from '../store/jobStore.js';
import { classifyFailure, INTERNAL_FAILURE_REASONS, type RetryClass } from './failureReasons.js';
import { FINAL_JOB_STATUSES } from './jobStatus.js';

/** Telnyx fax statuses in the order a fax moves through them (docs/behaviour.md §5); never backwards. */
const STATUS_RANK: Record<string, number> = {
  queued: 1,
  'media.processed': 2,
  originated: 3,
  sending: 4,
  delivered: 5,
  failed: 5,
};

const EVENT_STATUS: Record<string, string> = {
  'fax.queued': 'queued',
  'fax.media.processed': 'media.processed',
  'fax.originated': 'originated',
  'fax.sending.started': 'sending',
  'fax.delivered': 'delivered',
  'fax.failed': 'failed',
};

export function statusOfEvent(eventType: string): string | null {
  return EVENT_STATUS[eventType] ?? null;
}

/** What Telnyx told us about one fax, from a webhook or from GET /faxes/{id}. */
export interface FaxObservation {
  faxId: string;
  status: string;
  failureReason?: string | null;
  pages?: number | null;
  durationSecs?: number | null;
}

export interface OutboundPolicy {
  retryDelays: Record<Exclude<RetryClass, 'final'>, number>;
  finalEventTimeout: number;
  receiptOnDelivered: boolean;
  receiptOnFailed: boolean;
}

export interface OutboundDecision {
  outcome:
    | 'unknown_fax'
    | 'stale_attempt'
    | 'job_finished'
    | 'already_final'
    | 'out_of_order'
    | 'progress'
    | 'delivered'
    | 'retry_scheduled'
    | 'failed'
    | 'ignored';
  transition?: Transition;
}

/**
 * The outbound state machine: applies one observation to a job and its attempt. Pure; the caller applies
 * the transition in one transaction. Duplicates and late events fall out as no-ops because the attempt's
 * status only moves forward and the first final status wins.
 */
export function decideOutbound(
  job: JobRow | null,
  attempt: AttemptRow | null,
  seen: FaxObservation,
  policy: OutboundPolicy,
  now: number,
): OutboundDecision {
  const rank = STATUS_RANK[seen.status];
  if (rank === undefined) return { outcome: 'ignored' };
  if (!job || !attempt) return { outcome: 'unknown_fax' };
  if (attempt.state === 'delivered' || attempt.state === 'failed') return { outcome: 'already_final' };
  const isFinal = seen.status === 'delivered' || seen.status === 'failed';
  if (!isFinal && rank <= (STATUS_RANK[attempt.fax_status ?? ''] ?? 0)) return { outcome: 'out_of_order' };

  // A fax of an earlier attempt, or of a job already over: record its status, never move the job.
  if (attempt.attempt !== job.attempt || FINAL_JOB_STATUSES.includes(job.status)) {
    return {
      outcome: attempt.attempt !== job.attempt ? 'stale_attempt' : 'job_finished',
      transition: { attempt: { attempt: attempt.attempt, fax_status: seen.status, last_event_at: now } },
    };
  }

  // An event can arrive before we recorded Telnyx's 202 (a crash in between): it proves the fax exists.
  // Without a fax id the attempt stays `posting`, so the worker reconciles by client_state instead of
  // taking a `placed` attempt with no fax for one that never happened and placing another.
  const placed =
    attempt.state === 'posting' && seen.faxId
      ? { state: 'placed' as const, fax_id: seen.faxId, placed_at: now }
      : {};
  const base = { attempt: attempt.attempt, ...placed, fax_status: seen.status, last_event_at: now };

  if (!isFinal) {
    return {
      outcome: 'progress',
      transition: {
        attempt: base,
        job: { status: 'placed', run_at: now + policy.finalEventTimeout, api_error_since: null },
      },
    };
  }

  if (seen.status === 'delivered') {
    return {
      outcome: 'delivered',
      transition: {
        attempt: {
          ...base,
          state: 'delivered',
          ended_at: now,
          pages: seen.pages ?? null,
          duration_secs: seen.durationSecs ?? null,
        },
        job: {
          status: 'delivered',
          run_at: null,
          finished_at: now,
          pages_sent: seen.pages ?? null,
          duration_secs: seen.durationSecs ?? null,
          failure_reason: null,
        },
        outbox: policy.receiptOnDelivered ? [{ kind: 'receipt_delivered' }] : [],
      },
    };
  }

  const reason = seen.failureReason ?? 'unknown';
  const retryClass = classifyFailure(reason);
  const endedAttempt = { ...base, state: 'failed' as const, ended_at: now, failure_reason: reason };
  if (retryClass !== 'final' && job.attempt < job.max_attempts) {
    return {
      outcome: 'retry_scheduled',
      transition: {
        attempt: endedAttempt,
        job: { status: 'queued', run_at: now + policy.retryDelays[retryClass], last_error: reason },
      },
    };
  }
  return {
    outcome: 'failed',
    transition: {
      attempt: endedAttempt,
      job: failJob(reason, null, now),
      outbox: policy.receiptOnFailed ? [{ kind: 'receipt_failed' }] : [],
    },
  };
}

export function failJob(reason: string, detail: string | null, now: number): NonNullable<Transition['job']> {
  return { status: 'failed', run_at: null, finished_at: now, failure_reason: reason, failure_detail: detail };
}

export { INTERNAL_FAILURE_REASONS };
