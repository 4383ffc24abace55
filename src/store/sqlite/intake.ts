import type Database from 'better-sqlite3';

import type { DocumentRow, JobRow, MessageRow, NewMessage } from '../jobStore.js';
import { newOutboxId } from './applyTransition.js';
import { INSERT_DOCUMENT_SQL } from './insertDocument.js';

export function makeSqliteIntake(db: Database.Database) {
  const insertDocument = db.prepare(INSERT_DOCUMENT_SQL);
  const insertMessage = db.prepare(
    `INSERT INTO messages (id, sender, sender_name, envelope_from, message_id, subject, references_json, document_id,
       session_id, received_at, dedupe_key, cover_json)
     VALUES (@id, @sender, @sender_name, @envelope_from, @message_id, @subject, @references_json, @document_id,
       @session_id, @received_at, @dedupe_key, @cover_json)`,
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
  const holderOfKey = db.prepare(`SELECT * FROM messages WHERE dedupe_key = ?`);
  const releaseKey = db.prepare(`UPDATE messages SET dedupe_key = NULL WHERE id = ?`);

  const accept = db.transaction((input: NewMessage, now: number): JobRow[] => {
    const key = input.message.dedupe_key ?? null;
    // Inside the IMMEDIATE transaction nobody else writes, so this check and the inserts below are one step.
    const holder = key === null ? undefined : (holderOfKey.get(key) as MessageRow | undefined);
    if (holder && holder.received_at >= (input.resend_since ?? -Infinity)) {
      return jobsOfMessage.all(holder.id) as JobRow[];
    }
    // The same mail again after the resend window is a new fax; the old message gives up the key.
    if (holder) releaseKey.run(holder.id);
    insertDocument.run(input.document);
    insertMessage.run({ ...input.message, dedupe_key: key, cover_json: input.message.cover_json ?? null });
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

    findResentMessage(dedupeKey: string, since: number) {
      const message = holderOfKey.get(dedupeKey) as MessageRow | undefined;
      if (!message || message.received_at < since) return null;
      return { message, jobs: jobsOfMessage.all(message.id) as JobRow[] };
    },

    getMessage: (id: string) =>
      (db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined) ?? null,
    getDocument: (id: string) =>
      (db.prepare('SELECT * FROM documents WHERE id = ?').get(id) as DocumentRow | undefined) ?? null,
  };
}
