import type Database from 'better-sqlite3';

import type {
  ActivityCounts,
  AuditEntry,
  AuditSearch,
  InboundFaxRow,
  InboundSearch,
  JobRow,
  JobSearch,
} from '../jobStore.js';

/*
 * The web console's queries. Each WHERE is assembled from fixed fragments with `?` placeholders only: no value
 * is ever spliced into SQL. Pages continue strictly after the previous page's last key (row-value comparison),
 * which the (time, id) indexes of migration 5 answer as a range.
 */

/** `LIKE 'prefix%'` for any text: `%`, `_` and the escape itself match only themselves. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function makeWhere() {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (fragment: string, ...values: unknown[]) => {
    where.push(fragment);
    params.push(...values);
  };
  return { where, params, add };
}

export function makeSqliteConsoleQueries(db: Database.Database) {
  return {
    searchJobs(search: JobSearch): JobRow[] {
      const { where, params, add } = makeWhere();
      if (search.sender !== undefined) add('sender = ?', search.sender);
      if (search.status !== undefined) add('status = ?', search.status);
      if (search.toNumberPrefix) {
        add(`to_number LIKE ? ESCAPE '\\'`, likePrefix(search.toNumberPrefix));
      }
      if (search.createdFrom !== undefined) add('created_at >= ?', search.createdFrom);
      if (search.createdBefore !== undefined) add('created_at < ?', search.createdBefore);
      if (search.before) {
        add('(created_at, id) < (?, ?)', search.before.created_at, search.before.id);
      }
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT ?`;
      return db.prepare(sql).all(...params, search.limit) as JobRow[];
    },

    searchInboundFaxes(search: InboundSearch): InboundFaxRow[] {
      const { where, params, add } = makeWhere();
      if (search.numbers && 'in' in search.numbers) {
        add('to_number IN (SELECT value FROM json_each(?))', JSON.stringify(search.numbers.in));
      } else if (search.numbers) {
        add('to_number NOT IN (SELECT value FROM json_each(?))', JSON.stringify(search.numbers.notIn));
      }
      if (search.fromNumberPrefix) {
        add(`from_number LIKE ? ESCAPE '\\'`, likePrefix(search.fromNumberPrefix));
      }
      if (search.toNumberPrefix) {
        add(`to_number LIKE ? ESCAPE '\\'`, likePrefix(search.toNumberPrefix));
      }
      if (search.receivedFrom !== undefined) add('received_at >= ?', search.receivedFrom);
      if (search.receivedBefore !== undefined) add('received_at < ?', search.receivedBefore);
      if (search.before) {
        add('(received_at, fax_id) < (?, ?)', search.before.received_at, search.before.fax_id);
      }
      const sql = `SELECT * FROM inbound_faxes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY received_at DESC, fax_id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...params, search.limit) as Array<
        Omit<InboundFaxRow, 'partial'> & { partial: number }
      >;
      return rows.map((row) => ({ ...row, partial: row.partial === 1 }));
    },

    recordAudit(entry: AuditEntry): void {
      db.prepare(
        `INSERT INTO console_audit (id, at, actor, action, object_type, object_id, address, detail)
         VALUES (@id, @at, @actor, @action, @object_type, @object_id, @address, @detail)`,
      ).run(entry);
    },

    listAudit(search: AuditSearch): AuditEntry[] {
      return (
        search.before
          ? db
              .prepare(
                `SELECT * FROM console_audit WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?`,
              )
              .all(search.before.at, search.before.id, search.limit)
          : db.prepare(`SELECT * FROM console_audit ORDER BY at DESC, id DESC LIMIT ?`).all(search.limit)
      ) as AuditEntry[];
    },

    forgetAudit(olderThan: number): number {
      return db.prepare('DELETE FROM console_audit WHERE at < ?').run(olderThan).changes;
    },

    countActivity(since: number): ActivityCounts {
      const finished = db
        .prepare(
          `SELECT status, count(*) AS n FROM jobs
           WHERE finished_at >= ? AND status IN ('delivered', 'failed') GROUP BY status`,
        )
        .all(since) as Array<{ status: string; n: number }>;
      const received = db
        .prepare('SELECT count(*) AS n FROM inbound_faxes WHERE received_at >= ?')
        .get(since) as { n: number };
      const count = (status: string) => finished.find((row) => row.status === status)?.n ?? 0;
      return { delivered: count('delivered'), failed: count('failed'), received: received.n };
    },
  };
}
