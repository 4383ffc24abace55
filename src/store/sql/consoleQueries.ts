import type { Queryable } from '../db.js';
import type {
  ActivityCounts,
  AuditEntry,
  AuditSearch,
  InboundFaxRow,
  InboundSearch,
  JobRow,
  JobSearch,
} from '../jobStore.js';
import { asInboundRow } from './inboundRows.js';
import { JOB_COLUMNS } from './jobColumns.js';

/*
 * The web console's queries. Each WHERE is assembled from fixed fragments whose `?` become numbered
 * parameters: no value is ever spliced into SQL. Pages continue strictly after the previous page's last key
 * (a row-value comparison, which both SQLite and PostgreSQL answer as a range of the (time, id) indexes of
 * the console's migration), so a page deep in 100,000 rows costs what the first one does.
 */

/** `LIKE 'prefix%'` for any text: `%`, `_` and the escape itself match only themselves. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function makeWhere() {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (fragment: string, ...values: unknown[]) => {
    where.push(fragment.replace(/\?/g, () => `$${params.push(values.shift())}`));
  };
  /** `column IN (…)` with one placeholder per value; an empty list matches nothing (or, negated, everything). */
  const addIn = (column: string, values: readonly string[], negate: boolean) => {
    if (values.length === 0) return void (negate ? undefined : where.push('1 = 0'));
    const list = values.map((value) => `$${params.push(value)}`).join(', ');
    where.push(`${column} ${negate ? 'NOT IN' : 'IN'} (${list})`);
  };
  const clause = () => (where.length ? `WHERE ${where.join(' AND ')}` : '');
  return { params, add, addIn, clause };
}

export async function searchJobs(db: Queryable, search: JobSearch): Promise<JobRow[]> {
  const { params, add, clause } = makeWhere();
  if (search.sender !== undefined) add('sender = ?', search.sender);
  if (search.status !== undefined) add('status = ?', search.status);
  if (search.toNumberPrefix) add(`to_number LIKE ? ESCAPE '\\'`, likePrefix(search.toNumberPrefix));
  if (search.createdFrom !== undefined) add('created_at >= ?', search.createdFrom);
  if (search.createdBefore !== undefined) add('created_at < ?', search.createdBefore);
  if (search.before) add('(created_at, id) < (?, ?)', search.before.created_at, search.before.id);
  const where = clause();
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs ${where} ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1}`,
    [...params, search.limit],
  );
  return rows;
}

export async function searchInboundFaxes(db: Queryable, search: InboundSearch): Promise<InboundFaxRow[]> {
  const { params, add, addIn, clause } = makeWhere();
  if (search.numbers && 'in' in search.numbers) addIn('to_number', search.numbers.in, false);
  else if (search.numbers) addIn('to_number', search.numbers.notIn, true);
  if (search.fromNumberPrefix) add(`from_number LIKE ? ESCAPE '\\'`, likePrefix(search.fromNumberPrefix));
  if (search.toNumberPrefix) add(`to_number LIKE ? ESCAPE '\\'`, likePrefix(search.toNumberPrefix));
  if (search.receivedFrom !== undefined) add('received_at >= ?', search.receivedFrom);
  if (search.receivedBefore !== undefined) add('received_at < ?', search.receivedBefore);
  if (search.before) add('(received_at, fax_id) < (?, ?)', search.before.received_at, search.before.fax_id);
  const where = clause();
  const { rows } = await db.query<InboundFaxRow>(
    `SELECT * FROM inbound_faxes ${where} ORDER BY received_at DESC, fax_id DESC LIMIT $${params.length + 1}`,
    [...params, search.limit],
  );
  return rows.map(asInboundRow);
}

export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO console_audit (id, at, actor, action, object_type, object_id, address, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.id,
      entry.at,
      entry.actor,
      entry.action,
      entry.object_type,
      entry.object_id,
      entry.address,
      entry.detail,
    ],
  );
}

export async function listAudit(db: Queryable, search: AuditSearch): Promise<AuditEntry[]> {
  const { rows } = search.before
    ? await db.query<AuditEntry>(
        `SELECT * FROM console_audit WHERE (at, id) < ($1, $2) ORDER BY at DESC, id DESC LIMIT $3`,
        [search.before.at, search.before.id, search.limit],
      )
    : await db.query<AuditEntry>(`SELECT * FROM console_audit ORDER BY at DESC, id DESC LIMIT $1`, [
        search.limit,
      ]);
  return rows;
}

export async function forgetAudit(db: Queryable, olderThan: number): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM console_audit WHERE at < $1', [olderThan]);
  return rowCount;
}

export async function countActivity(db: Queryable, since: number): Promise<ActivityCounts> {
  const { rows } = await db.query<{ delivered: unknown; failed: unknown; received: unknown }>(
    `SELECT
       (SELECT count(*) FROM jobs WHERE finished_at >= $1 AND status = 'delivered') AS delivered,
       (SELECT count(*) FROM jobs WHERE finished_at >= $1 AND status = 'failed') AS failed,
       (SELECT count(*) FROM inbound_faxes WHERE received_at >= $1) AS received`,
    [since],
  );
  const row = rows[0];
  // count(*) is int8 on PostgreSQL, which may arrive as a string.
  return {
    delivered: Number(row?.delivered ?? 0),
    failed: Number(row?.failed ?? 0),
    received: Number(row?.received ?? 0),
  };
}
