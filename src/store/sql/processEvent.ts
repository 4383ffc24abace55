import type { Db, Queryable } from '../db.js';
import type { AttemptRow, EventContext, EventDecision, JobRow, WebhookEventRow } from '../jobStore.js';
import { applyTransition } from './applyTransition.js';
import { forUpdate } from './dialect.js';
import { JOB_COLUMNS } from './jobColumns.js';

type Correlation = { jobId: string | null; attempt: number | null; faxId: string | null };

/**
 * Acts on one recorded webhook exactly once, whichever instance gets there first. In one transaction:
 * lock the event row (a second processor waits here, then sees processed_at set and returns null), lock the
 * job it belongs to (so a worker's completeWork on the same job runs before or after, never interleaved),
 * read the attempt, let `decide` choose, apply the decision and mark the event processed.
 * Locks are always taken event first, then job, so two processors cannot deadlock each other. (On SQLite the
 * IMMEDIATE transaction already excludes every other writer; the same reads simply run unlocked.)
 */
export async function processEvent(
  db: Db,
  eventId: string,
  correlate: Correlation,
  decide: (context: EventContext) => EventDecision,
  now: number,
): Promise<EventDecision | null> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<WebhookEventRow>(
      `SELECT * FROM webhook_events WHERE id = $1 ${forUpdate(tx)}`,
      [eventId],
    );
    const event = rows[0];
    if (!event || event.processed_at !== null) return null;
    const jobId = (await findAttempt(tx, correlate))?.job_id ?? correlate.jobId;
    const job = jobId ? await lockJob(tx, jobId) : null;
    // Read the attempt again under the job lock: a worker may have changed it while we waited.
    const attempt = job ? await findAttempt(tx, correlate) : null;
    const decision = decide({ event, job, attempt });
    if (decision.transition && job) await applyTransition(tx, job.id, decision.transition, now);
    await tx.query('UPDATE webhook_events SET processed_at = $1, outcome = $2 WHERE id = $3', [
      now,
      decision.outcome,
      eventId,
    ]);
    return decision;
  });
}

/** client_state names the job and attempt exactly; the fax id is the fallback (docs/behaviour.md, webhooks). */
async function findAttempt(tx: Queryable, correlate: Correlation): Promise<AttemptRow | null> {
  if (correlate.jobId && correlate.attempt !== null) {
    const { rows } = await tx.query<AttemptRow>('SELECT * FROM attempts WHERE job_id = $1 AND attempt = $2', [
      correlate.jobId,
      correlate.attempt,
    ]);
    if (rows[0]) return rows[0];
  }
  if (correlate.faxId) {
    const { rows } = await tx.query<AttemptRow>('SELECT * FROM attempts WHERE fax_id = $1', [
      correlate.faxId,
    ]);
    return rows[0] ?? null;
  }
  return null;
}

async function lockJob(tx: Queryable, jobId: string): Promise<JobRow | null> {
  const { rows } = await tx.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1 ${forUpdate(tx)}`, [
    jobId,
  ]);
  return rows[0] ?? null;
}
