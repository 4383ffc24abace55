import type { Pool } from 'pg';

import type { SenderUsage } from '../jobStore.js';

/** The SQLite query of sqlite/senderUsage.ts: faxes and pages a sender queued since `since`. */
export async function countSenderUsage(pool: Pool, sender: string, since: number): Promise<SenderUsage> {
  const { rows } = await pool.query<{ faxes: string; pages: string }>(
    `SELECT COUNT(*) AS faxes, COALESCE(SUM(d.pages), 0) AS pages
     FROM jobs j JOIN messages m ON m.id = j.message_row_id JOIN documents d ON d.id = m.document_id
     WHERE j.sender = $1 AND j.created_at >= $2`,
    [sender.toLowerCase(), since],
  );
  // COUNT and SUM come back as bigint text.
  return { faxes: Number(rows[0]?.faxes ?? 0), pages: Number(rows[0]?.pages ?? 0) };
}
