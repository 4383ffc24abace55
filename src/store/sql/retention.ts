import type { Queryable } from '../db.js';
import type { DocumentRow } from '../jobStore.js';
import { insertionOrder } from './dialect.js';

/**
 * Retention: documents older than `before` whose bytes may go, oldest first. One still used by a job in
 * progress (queued or placed) is never listed, however old; received faxes have no job and age out on their own.
 */
export async function listExpiredDocuments(
  db: Queryable,
  before: number,
  limit: number,
): Promise<DocumentRow[]> {
  const { rows } = await db.query<DocumentRow>(
    `SELECT d.* FROM documents d
     WHERE d.deleted_at IS NULL AND d.created_at < $1
       AND NOT EXISTS (
         SELECT 1 FROM messages m JOIN jobs j ON j.message_row_id = m.id
         WHERE m.document_id = d.id AND j.status IN ('queued', 'placed'))
       AND NOT EXISTS (
         SELECT 1 FROM jobs t WHERE t.transmitted_document_id = d.id AND t.status IN ('queued', 'placed'))
     ORDER BY d.created_at, ${insertionOrder(db, 'documents', 'd')} LIMIT $2`,
    [before, limit],
  );
  return rows;
}

/** Sets deleted_at once (the bytes are gone from storage); the row keeps the metadata for receipts and listings. */
export async function markDocumentDeleted(db: Queryable, documentId: string, now: number): Promise<void> {
  await db.query('UPDATE documents SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL', [
    now,
    documentId,
  ]);
}
