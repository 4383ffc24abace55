import type { Pool } from 'pg';

import type { DocumentRow, JobRow, MessageRow, NewMessage } from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';
import { insertDocument } from './insertDocument.js';
import { JOB_COLUMNS } from './jobColumns.js';
import { type Queryable, withTransaction } from './transaction.js';

/**
 * Stores one accepted mail: its document, the message, a job per recipient and (receipts.on_accepted) an
 * "accepted" receipt per job, all in one transaction, so the 250 reply is only given for work that is durable.
 * A message whose resend key another one already holds is not stored: the holder's jobs are returned.
 */
export async function acceptMessage(pool: Pool, input: NewMessage, now: number): Promise<JobRow[]> {
  return withTransaction(pool, async (client) => {
    const { document, message } = input;
    const key = message.dedupe_key ?? null;
    if (key !== null && input.resend_since !== undefined) {
      // The same mail again after the resend window is a new fax; the old message gives up the key.
      await client.query('UPDATE messages SET dedupe_key = NULL WHERE dedupe_key = $1 AND received_at < $2', [
        key,
        input.resend_since,
      ]);
    }
    await insertDocument(client, document);
    // ON CONFLICT waits for a concurrent transaction inserting the same key and, once that one commits, skips
    // the row: two sessions racing with one mail store it once, whichever commits first.
    const inserted = await client.query(
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
    if (inserted.rowCount === 0) return jobsOfKeyHolder(client, document.id, key!);
    for (const job of input.jobs) {
      await client.query(
        `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts,
           run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $7, $7)`,
        [job.id, message.id, job.to_number, job.from_number, message.sender, input.max_attempts, now],
      );
      if (input.accepted_receipt) {
        await client.query(
          `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
           VALUES ($1, 'receipt_accepted', $2, '{}', 'pending', $3, $3)`,
          [newOutboxId(), job.id, now],
        );
      }
    }
    return jobsOfMessage(client, message.id);
  });
}

/** The losing side of a race: drop the document row just written and answer with the winner's jobs. */
async function jobsOfKeyHolder(client: Queryable, documentId: string, key: string): Promise<JobRow[]> {
  await client.query('DELETE FROM documents WHERE id = $1', [documentId]);
  const { rows } = await client.query<{ id: string }>('SELECT id FROM messages WHERE dedupe_key = $1', [key]);
  if (!rows[0]) throw new Error('the message holding this resend key vanished while its resend was stored');
  return jobsOfMessage(client, rows[0].id);
}

/** The message holding this resend key, received since `since`: a client resending what we already took. */
export async function findResentMessage(
  pool: Pool,
  dedupeKey: string,
  since: number,
): Promise<{ message: MessageRow; jobs: JobRow[] } | null> {
  const { rows } = await pool.query<MessageRow>(
    'SELECT * FROM messages WHERE dedupe_key = $1 AND received_at >= $2',
    [dedupeKey, since],
  );
  const message = rows[0];
  if (!message) return null;
  return { message, jobs: await jobsOfMessage(pool, message.id) };
}

export async function getMessage(pool: Pool, id: string): Promise<MessageRow | null> {
  const { rows } = await pool.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function getDocument(pool: Pool, id: string): Promise<DocumentRow | null> {
  const { rows } = await pool.query<DocumentRow>('SELECT * FROM documents WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/** In recipient order (`seq`), as SQLite's rowid keeps them, so the SMTP reply lists jobs as addressed. */
async function jobsOfMessage(client: Queryable, messageRowId: string): Promise<JobRow[]> {
  const { rows } = await client.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs WHERE message_row_id = $1 ORDER BY seq`,
    [messageRowId],
  );
  return rows;
}
