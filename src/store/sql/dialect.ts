import type { Queryable } from '../db.js';

/*
 * The SQL fragments that differ between SQLite and PostgreSQL, named here so that every operation is written
 * once. What the two dialects share needs nothing: `$n` placeholders (rewritten for SQLite by its adapter),
 * `INSERT … ON CONFLICT … DO NOTHING / DO UPDATE SET c = EXCLUDED.c`, `RETURNING`, epoch-millisecond integers
 * (int8 parsed as a number by the pg pool), and booleans (bound as 0/1 on SQLite, read back with Boolean()).
 *
 * What differs and is not a fragment:
 * - Claims (sql/claimJobs.ts, claimOutbox.ts, claimInboundFaxes.ts) are two statements side by side:
 *   PostgreSQL leases in one statement (`WITH next AS (SELECT … FOR UPDATE SKIP LOCKED) UPDATE …`), so instances claim side by side
 *   without handing a row out twice; SQLite selects then leases inside an IMMEDIATE transaction, which holds the
 *   file's only write lock for those few statements.
 * - Migrations (src/store/migrate.ts): PostgreSQL takes an advisory lock so that instances starting together
 *   migrate once; SQLite's IMMEDIATE transaction is that lock. The DDL itself is per dialect (migrations/).
 */

/**
 * Appended to a SELECT inside a transaction whose decision depends on the rows read. PostgreSQL: lock them
 * until COMMIT, so a concurrent worker or webhook on another instance waits and then sees our write. SQLite:
 * nothing, because the IMMEDIATE transaction already holds the only write lock (and has no FOR UPDATE).
 */
export function forUpdate(db: Queryable): string {
  return db.dialect === 'postgres' ? 'FOR UPDATE' : '';
}

type OrderedTable = 'jobs' | 'outbox' | 'webhook_events' | 'inbound_faxes' | 'documents';

/**
 * The tie-breaker for rows with equal times. SQLite: `rowid`, the order rows were inserted. PostgreSQL has no
 * rowid: `jobs.seq` (an identity column) keeps a message's jobs in recipient order, and the other tables fall
 * back to their primary key, which makes ties deterministic, if not in arrival order.
 */
export function insertionOrder(db: Queryable, table: OrderedTable, alias?: string): string {
  const column = db.dialect === 'sqlite' ? 'rowid' : table === 'jobs' ? 'seq' : KEY_OF[table];
  return alias ? `${alias}.${column}` : column;
}

const KEY_OF: Record<Exclude<OrderedTable, 'jobs'>, string> = {
  outbox: 'id',
  webhook_events: 'id',
  inbound_faxes: 'fax_id',
  documents: 'id',
};
