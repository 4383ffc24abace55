import type { Db } from '../db.js';
import type { AuditEntry, InboundOutboxEntry } from '../jobStore.js';
import { recordAudit } from './consoleQueries.js';
import { queueInboundMail } from './inboundRows.js';

/**
 * Queues a received fax's mail once more (the web console's re-send) together with the audit entry that says
 * who asked, in one transaction: once it commits the outbox sends it at least once, after any crash, and the
 * log shows it. Nothing is written when the fax is unknown or its document is gone (retention): `false`.
 */
export async function queueInboundResend(
  db: Db,
  faxId: string,
  entry: InboundOutboxEntry,
  audit: AuditEntry,
  now: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ deleted_at: number | null }>(
      `SELECT d.deleted_at FROM inbound_faxes f JOIN documents d ON d.id = f.document_id
       WHERE f.fax_id = $1`,
      [faxId],
    );
    if (rows.length === 0 || rows[0]!.deleted_at !== null) return false;
    await queueInboundMail(tx, [entry], now);
    await recordAudit(tx, audit);
    return true;
  });
}
