import type { Db } from '../db.js';
import type { AuditEntry, InboundOutboxEntry, InboundResendResult } from '../jobStore.js';
import { recordAudit } from './consoleQueries.js';

/**
 * Queues a received fax's mail once more (the web console's re-send) together with the audit entry that says
 * who asked, in one transaction: once it commits the outbox sends it at least once, after any crash, and the
 * log shows it. Nothing is written when the fax is unknown or its document is gone (retention): `gone`.
 *
 * The outbox row's id is made from `resendId`, which the page's form carries: the same form sent twice (a double
 * click, a browser repeating the POST) finds its row there and queues nothing more (`already`). ON CONFLICT DO
 * NOTHING makes that hold for two requests at once on PostgreSQL too.
 */
export async function queueInboundResend(
  db: Db,
  faxId: string,
  resendId: string,
  entry: InboundOutboxEntry,
  audit: AuditEntry,
  now: number,
): Promise<InboundResendResult> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ deleted_at: number | null }>(
      `SELECT d.deleted_at FROM inbound_faxes f JOIN documents d ON d.id = f.document_id
       WHERE f.fax_id = $1`,
      [faxId],
    );
    if (rows.length === 0 || rows[0]!.deleted_at !== null) return 'gone';
    const inserted = await tx.query(
      `INSERT INTO outbox (id, kind, job_id, payload_json, status, run_at, created_at)
       VALUES ($1, $2, NULL, $3, 'pending', $4, $4) ON CONFLICT (id) DO NOTHING`,
      [`ob_${resendId}`, entry.kind, JSON.stringify(entry.payload), now],
    );
    if (inserted.rowCount === 0) return 'already';
    await recordAudit(tx, audit);
    return 'queued';
  });
}
