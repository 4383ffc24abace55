import type { Db, Queryable } from '../db.js';
import type { JobRow, MessageRow, NewMessage } from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';
import { insertionOrder } from './dialect.js';
import { insertDocument } from './insertDocument.js';
import { JOB_COLUMNS } from './jobColumns.js';

/**
 * Stores one accepted mail: its document, the message, a job per recipient and (receipts.on_accepted) an
 * "accepted" receipt per job, all in one transaction, so the 250 reply is only given for work that is durable.
 * A message whose resend key another one already holds is not stored: the holder's jobs are returned.
 */
export async function acceptMessage(db: Db, input: NewMessage, now: number): Promise<JobRow[]> {
  return db.transaction(async (tx) => {
    const { document, message } = input;
    const key = message.dedupe_key ?? null;
    if (key !== null && input.resend_since !== undefined) {
      // The same mail again after the resend window is a new fax; the old message gives up the key.
      await tx.query('UPDATE messages SET dedupe_key = NULL WHERE dedupe_key = $1 AND received_at < $2', [
        key,
        input.resend_since,
      ]);
    }
    await insertDocument(tx, document);
    // The unique key makes the check and the insert one step. On PostgreSQL, ON CONFLICT waits for a concurrent
    // transaction inserting the same key and, once that one commits, skips the row: two sessions racing with one
    // mail store it once, whichever commits first. On SQLite the IMMEDIATE transaction runs them one after the
    // other, and the second finds the key taken.
    const inserted = await tx.query(
      `INSERT INTO messages (id, sender, sender_name, envelope_from, message_id, subject, references_json,
         document_id, session_id, received_at, dedupe_key, cover_json)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        message.id,
        message.sender,
        message.sender_name,
        message.envelope_from,
        message.message_id,
        message.subject,
        message.references_json,
        message.document_id,
        message.session_id,
        message.received_at,
        key,
        message.cover_json ?? null,
      ],
    );
    if (inserted.rowCount === 0) return jobsOfKeyHolder(tx, document.id, key!);
    for (const job of input.jobs) {
      await tx.query(
        `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts,
           run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $7, $7)`,
        [job.id, message.id, job.to_number, job.from_number, message.sender, input.max_attempts, now],
      );
      if (input.accepted_receipt) {
        await tx.query(
          `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
           VALUES ($1, 'receipt_accepted', $2, '{}', 'pending', $3, $3)`,
          [newOutboxId(), job.id, now],
        );
      }
    }
    return jobsOfMessage(tx, message.id);
  });
}

/** The losing side of a race: drop the document row just written and answer with the winner's jobs. */
async function jobsOfKeyHolder(tx: Queryable, documentId: string, key: string): Promise<JobRow[]> {
  await tx.query('DELETE FROM documents WHERE id = $1', [documentId]);
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM messages WHERE dedupe_key = $1', [key]);
  if (!rows[0]) throw new Error('the message holding this resend key vanished while its resend was stored');
  return jobsOfMessage(tx, rows[0].id);
}

/** The message holding this resend key, received since `since`: a client resending what we already took. */
export async function findResentMessage(
  db: Queryable,
  dedupeKey: string,
  since: number,
): Promise<{ message: MessageRow; jobs: JobRow[] } | null> {
  const { rows } = await db.query<MessageRow>(
    'SELECT * FROM messages WHERE dedupe_key = $1 AND received_at >= $2',
    [dedupeKey, since],
  );
  const message = rows[0];
  if (!message) return null;
  return { message, jobs: await jobsOfMessage(db, message.id) };
}

/** In recipient order, so the SMTP reply lists jobs as addressed. */
async function jobsOfMessage(db: Queryable, messageRowId: string): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE message_row_id = $1 ORDER BY ${insertionOrder(db, 'jobs')}`,
    [messageRowId],
  );
  return rows;
}
