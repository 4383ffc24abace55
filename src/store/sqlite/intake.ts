import type Database from 'better-sqlite3';

import type { DocumentRow, JobRow, MessageRow, NewMessage } from '../jobStore.js';
import { newOutboxId } from './applyTransition.js';
import { INSERT_DOCUMENT_SQL } from './insertDocument.js';

export function makeSqliteIntake(db: Database.Database) {
  const insertDocument = db.prepare(INSERT_DOCUMENT_SQL);
  const insertMessage = db.prepare(
    `INSERT INTO messages (id, sender, sender_name, envelope_from, message_id, subject, references_json, document_id,
       session_id, received_at)
     VALUES (@id, @sender, @sender_name, @envelope_from, @message_id, @subject, @references_json, @document_id,
       @session_id, @received_at)`,
  );
  const insertJob = db.prepare(
    `INSERT INTO jobs (id, message_row_id, to_number, from_number, sender, status, attempt, max_attempts, run_at,
       created_at, updated_at)
     VALUES (@id, @message_row_id, @to_number, @from_number, @sender, 'queued', 0, @max_attempts, @now, @now, @now)`,
  );
  const insertOutbox = db.prepare(
    `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
     VALUES (?, 'receipt_accepted', ?, '{}', 'pending', ?, ?)`,
  );
  const jobsOfMessage = db.prepare(`SELECT * FROM jobs WHERE message_row_id = ? ORDER BY rowid`);

  const accept = db.transaction((input: NewMessage, now: number): JobRow[] => {
    insertDocument.run(input.document);
    insertMessage.run(input.message);
    for (const job of input.jobs) {
      insertJob.run({
        ...job,
        message_row_id: input.message.id,
        sender: input.message.sender,
        max_attempts: input.max_attempts,
        now,
      });
      if (input.accepted_receipt) insertOutbox.run(newOutboxId(), job.id, now, now);
    }
    return jobsOfMessage.all(input.message.id) as JobRow[];
  });

  return {
    acceptMessage: (input: NewMessage, now: number): JobRow[] => accept.immediate(input, now),

    findRecentMessage(sender: string, messageId: string, since: number) {
      const message = db
        .prepare(
          `SELECT * FROM messages WHERE sender = ? AND message_id = ? AND received_at >= ?
           ORDER BY received_at DESC LIMIT 1`,
        )
        .get(sender, messageId, since) as MessageRow | undefined;
      if (!message) return null;
      return { message, jobs: jobsOfMessage.all(message.id) as JobRow[] };
    },

    getMessage: (id: string) =>
      (db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined) ?? null,
    getDocument: (id: string) =>
      (db.prepare('SELECT * FROM documents WHERE id = ?').get(id) as DocumentRow | undefined) ?? null,
  };
}
