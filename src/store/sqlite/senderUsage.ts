import type Database from 'better-sqlite3';

import type { SenderUsage } from '../jobStore.js';

/**
 * Faxes and pages a sender queued since a moment, for the per-sender limits (src/domain/senderQuota.ts). Every
 * job counts, whatever became of it: a failed fax may still have been dialled and billed.
 */
export function makeSqliteSenderUsage(db: Database.Database) {
  const usage = db.prepare(
    `SELECT COUNT(*) AS faxes, COALESCE(SUM(d.pages), 0) AS pages
     FROM jobs j JOIN messages m ON m.id = j.message_row_id JOIN documents d ON d.id = m.document_id
     WHERE j.sender = ? AND j.created_at >= ?`,
  );
  return {
    countSenderUsage(sender: string, since: number): SenderUsage {
      const row = usage.get(sender.toLowerCase(), since) as { faxes: number; pages: number };
      return { faxes: Number(row.faxes), pages: Number(row.pages) };
    },
  };
}
