import type { Queryable } from '../db.js';
import type { SenderUsage } from '../jobStore.js';

/**
 * Faxes and pages a sender queued since a moment, for the per-sender limits (src/domain/senderQuota.ts). Every
 * job counts, whatever became of it: a failed fax may still have been dialled and billed.
 */
export async function countSenderUsage(db: Queryable, sender: string, since: number): Promise<SenderUsage> {
  const { rows } = await db.query<{ faxes: number; pages: number }>(
    `SELECT COUNT(*) AS faxes, COALESCE(SUM(d.pages), 0) AS pages
     FROM jobs j JOIN messages m ON m.id = j.message_row_id JOIN documents d ON d.id = m.document_id
     WHERE j.sender = $1 AND j.created_at >= $2`,
    [sender.toLowerCase(), since],
  );
  return { faxes: Number(rows[0]?.faxes ?? 0), pages: Number(rows[0]?.pages ?? 0) };
}
