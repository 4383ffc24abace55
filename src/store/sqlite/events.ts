import type Database from 'better-sqlite3';

import type { AttemptRow, EventContext, EventDecision, JobRow, WebhookEventRow } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';

export function makeSqliteEvents(db: Database.Database) {
  const process = db.transaction(
    (
      eventId: string,
      correlate: { jobId: string | null; attempt: number | null; faxId: string | null },
      decide: (context: EventContext) => EventDecision,
      now: number,
    ): EventDecision | null => {
      const event = db.prepare('SELECT * FROM webhook_events WHERE id = ?').get(eventId) as
        WebhookEventRow | undefined;
      if (!event || event.processed_at !== null) return null;
      const attempt = findAttempt(correlate);
      const job = attempt
        ? ((db.prepare('SELECT * FROM jobs WHERE id = ?').get(attempt.job_id) as JobRow | undefined) ?? null)
        : correlate.jobId
          ? ((db.prepare('SELECT * FROM jobs WHERE id = ?').get(correlate.jobId) as JobRow | undefined) ??
            null)
          : null;
      const decision = decide({ event, job, attempt });
      if (decision.transition && job) applyTransition(db, job.id, decision.transition, now);
      db.prepare('UPDATE webhook_events SET processed_at = ?, outcome = ? WHERE id = ?').run(
        now,
        decision.outcome,
        eventId,
      );
      return decision;
    },
  );

  /** client_state names the job and attempt exactly; the fax id is the fallback (product.md §5). */
  function findAttempt(correlate: { jobId: string | null; attempt: number | null; faxId: string | null }) {
    if (correlate.jobId && correlate.attempt !== null) {
      const byState = db
        .prepare('SELECT * FROM attempts WHERE job_id = ? AND attempt = ?')
        .get(correlate.jobId, correlate.attempt) as AttemptRow | undefined;
      if (byState) return byState;
    }
    if (correlate.faxId) {
      return (
        (db.prepare('SELECT * FROM attempts WHERE fax_id = ?').get(correlate.faxId) as
          AttemptRow | undefined) ?? null
      );
    }
    return null;
  }

  return {
    recordEvent(event: Omit<WebhookEventRow, 'processed_at' | 'outcome'>): 'recorded' | 'duplicate' {
      const result = db
        .prepare(
          `INSERT INTO webhook_events (id, event_type, fax_id, occurred_at, received_at, payload_json)
           VALUES (@id, @event_type, @fax_id, @occurred_at, @received_at, @payload_json) ON CONFLICT (id) DO NOTHING`,
        )
        .run(event);
      return result.changes === 1 ? 'recorded' : 'duplicate';
    },

    listUnprocessedEvents: (limit: number) =>
      db
        .prepare(
          'SELECT * FROM webhook_events WHERE processed_at IS NULL ORDER BY received_at, rowid LIMIT ?',
        )
        .all(limit) as WebhookEventRow[],

    processEvent: (
      eventId: string,
      correlate: { jobId: string | null; attempt: number | null; faxId: string | null },
      decide: (context: EventContext) => EventDecision,
      now: number,
    ) => process.immediate(eventId, correlate, decide, now),

    forgetEvents: (olderThan: number) =>
      db
        .prepare('DELETE FROM webhook_events WHERE received_at < ? AND processed_at IS NOT NULL')
        .run(olderThan).changes,
  };
}
