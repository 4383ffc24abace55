import type { Queryable } from '../db.js';

/** Only the lease holder's word counts: a row taken over after an expiry belongs to its new owner. */
export async function markOutboxSent(db: Queryable, id: string, owner: string, now: number): Promise<void> {
  await db.query(
    `UPDATE outbox SET status = 'sent', sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL
     WHERE id = $2 AND lease_owner = $3`,
    [now, id, owner],
  );
}

/** Schedules another try at `runAt`, or gives up (`dead`) and keeps the row and its last error for operators. */
export async function markOutboxRetry(
  db: Queryable,
  id: string,
  owner: string,
  runAt: number,
  error: string,
  dead: boolean,
): Promise<void> {
  await db.query(
    `UPDATE outbox SET status = $1, run_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL
     WHERE id = $4 AND lease_owner = $5`,
    [dead ? 'dead' : 'pending', runAt, error, id, owner],
  );
}
