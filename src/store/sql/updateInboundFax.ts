import type { Db } from '../db.js';
import { INBOUND_UPDATE_COLUMNS } from '../inboundTypes.js';
import type { InboundFaxChange } from '../jobStore.js';
import { forUpdate } from './dialect.js';
import { queueInboundMail } from './inboundRows.js';
import { insertDocument } from './insertDocument.js';

/**
 * Applies a worker's change to a received fax (columns, its stored document, its mails) and releases the lease,
 * in one transaction; false, with nothing written, when `owner` no longer holds the lease.
 */
export async function updateInboundFax(
  db: Db,
  faxId: string,
  owner: string,
  change: InboundFaxChange,
  now: number,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ lease_owner: string | null }>(
      `SELECT lease_owner FROM inbound_faxes WHERE fax_id = $1 ${forUpdate(tx)}`,
      [faxId],
    );
    if (rows[0]?.lease_owner !== owner) return false;
    const values: unknown[] = [faxId, now];
    const sets = ['lease_owner = NULL', 'lease_until = NULL', 'updated_at = $2'];
    // Only the fixed column names of INBOUND_UPDATE_COLUMNS are interpolated; every value is bound.
    for (const column of INBOUND_UPDATE_COLUMNS) {
      if (change[column] === undefined) continue;
      values.push(change[column]);
      sets.push(`${column} = $${values.length}`);
    }
    const document = change.document;
    if (document) {
      await insertDocument(tx, document);
      values.push(document.id);
      sets.push(`document_id = $${values.length}`);
    }
    await tx.query(`UPDATE inbound_faxes SET ${sets.join(', ')} WHERE fax_id = $1`, values);
    await queueInboundMail(tx, change.outbox ?? [], now);
    return true;
  });
}
