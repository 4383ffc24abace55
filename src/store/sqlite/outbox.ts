import type Database from 'better-sqlite3';

import type { OutboxRow } from '../jobStore.js';

export function makeSqliteOutbox(db: Database.Database) {
  const claim = db.transaction((owner: string, now: number, leaseMs: number, limit: number): OutboxRow[] => {
    const due = db
      .prepare(
        `SELECT id FROM outbox WHERE status = 'pending' AND run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY run_at, rowid LIMIT ?`,
      )
      .all(now, now, limit) as Array<{ id: string }>;
    const lease = db.prepare(
      `UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ? RETURNING *`,
    );
    return due.map(({ id }) => lease.get(owner, now + leaseMs, id) as OutboxRow);
  });

  return {
    claimOutbox: (owner: string, now: number, leaseMs: number, limit: number) =>
      claim.immediate(owner, now, leaseMs, limit),

    markOutboxSent(id: string, owner: string, now: number): void {
      db.prepare(
        `UPDATE outbox SET status = 'sent', sent_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL
         WHERE id = ? AND lease_owner = ?`,
      ).run(now, id, owner);
    },

    markOutboxRetry(id: string, owner: string, runAt: number, error: string, dead: boolean): void {
      db.prepare(
        `UPDATE outbox SET status = ?, run_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
         WHERE id = ? AND lease_owner = ?`,
      ).run(dead ? 'dead' : 'pending', runAt, error, id, owner);
    },

    countOutbox: (status: OutboxRow['status']) =>
      (db.prepare('SELECT count(*) AS n FROM outbox WHERE status = ?').get(status) as { n: number }).n,
  };
}
