import path from 'node:path';

import Database from 'better-sqlite3';

/**
 * Read-only looks into a daemon's SQLite file from the benchmark process (WAL lets a reader in beside the
 * daemon's writer). Used to check that every 250 really left a message and a job behind, and to wait until
 * the background work a run caused (fax sends, webhooks, receipts) is done before the next run starts.
 */
export interface DaemonDb {
  counts(): DaemonCounts;
  /** How recorded webhook events were acted on, e.g. `{unknown_fax: 12000}`. */
  eventOutcomes(): Record<string, number>;
  close(): void;
}

export interface DaemonCounts {
  messages: number;
  jobs: number;
  /** Jobs not yet in a final state. */
  unfinishedJobs: number;
  delivered: number;
  failed: number;
  events: number;
  unprocessedEvents: number;
  pendingOutbox: number;
}

export function openDaemonDb(dataDir: string): DaemonDb {
  const db = new Database(path.join(dataDir, 'faxbridge.db'), { readonly: true, fileMustExist: true });
  const count = (sql: string) => (db.prepare(sql).pluck().get() as number | null) ?? 0;
  return {
    counts: () => ({
      messages: count('SELECT count(*) FROM messages'),
      jobs: count('SELECT count(*) FROM jobs'),
      unfinishedJobs: count('SELECT count(*) FROM jobs WHERE finished_at IS NULL'),
      delivered: count("SELECT count(*) FROM jobs WHERE status = 'delivered'"),
      failed: count("SELECT count(*) FROM jobs WHERE status = 'failed'"),
      events: count('SELECT count(*) FROM webhook_events'),
      unprocessedEvents: count('SELECT count(*) FROM webhook_events WHERE processed_at IS NULL'),
      pendingOutbox: count("SELECT count(*) FROM outbox WHERE status = 'pending'"),
    }),
    eventOutcomes: () =>
      Object.fromEntries(
        (
          db
            .prepare(
              "SELECT coalesce(outcome, '(none)') AS outcome, count(*) AS n FROM webhook_events GROUP BY 1",
            )
            .all() as Array<{ outcome: string; n: number }>
        ).map((row) => [row.outcome, row.n]),
      ),
    close: () => db.close(),
  };
}

/** Polls until nothing is left to do (or `timeoutMs`); returns how long that took. */
export async function waitForQuiet(
  db: DaemonDb,
  timeoutMs: number,
): Promise<{ ms: number; counts: DaemonCounts }> {
  const started = performance.now();
  for (;;) {
    const counts = db.counts();
    const quiet = counts.unfinishedJobs === 0 && counts.unprocessedEvents === 0 && counts.pendingOutbox === 0;
    if (quiet || performance.now() - started > timeoutMs) return { ms: performance.now() - started, counts };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
