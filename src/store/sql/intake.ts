import type { Db, Queryable } from '../db.js';
import type { JobRow, MessageRow, NewMessage } from '../jobStore.js';
import { newOutboxId } from '../transitionColumns.js';
import { insertionOrder } from './dialect.js';
import { insertDocument } from './insertDocument.js';
import { JOB_COLUMNS } from './jobColumns.js';

/**
 * Stores one accepted mail: its document, the message, a job per recipient and (receipts.on_accepted) an
 * "accepted" receipt per job, all in one transaction, so the 250 reply is only given for work that is durable.
 */
export async function acceptMessage(db: Db, input: NewMessage, now: number): Promise<JobRow[]> {
  return db.transaction(async (tx) => {
    const { document, message } = input;
    await insertDocument(tx, document);
    await tx.query(
      `INSERT INTO messages (id, sender, sender_name, envelope_from, message_id, subject, references_json,
         document_id, session_id, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
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
      ],
    );
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

/** The same sender's message with this Message-ID since `since`: a client resending what we already took. */
export async function findRecentMessage(
  db: Queryable,
  sender: string,
  messageId: string,
  since: number,
): Promise<{ message: MessageRow; jobs: JobRow[] } | null> {
  const { rows } = await db.query<MessageRow>(
    `SELECT * FROM messages WHERE sender = $1 AND message_id = $2 AND received_at >= $3
     ORDER BY received_at DESC LIMIT 1`,
    [sender, messageId, since],
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
