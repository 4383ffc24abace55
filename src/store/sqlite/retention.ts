import type Database from 'better-sqlite3';

import type { DocumentRow } from '../jobStore.js';

/**
 * Retention (product.md §9): which documents may lose their bytes. A document still used by a job in progress
 * (queued or placed) is never listed, however old; received faxes have no job and age out on their own.
 */
export function makeSqliteRetention(db: Database.Database) {
  const expired = db.prepare(
    `SELECT d.* FROM documents d
     WHERE d.deleted_at IS NULL AND d.created_at < ?
       AND NOT EXISTS (
         SELECT 1 FROM messages m JOIN jobs j ON j.message_row_id = m.id
         WHERE m.document_id = d.id AND j.status IN ('queued', 'placed'))
       AND NOT EXISTS (
         SELECT 1 FROM jobs t WHERE t.transmitted_document_id = d.id AND t.status IN ('queued', 'placed'))
     ORDER BY d.created_at LIMIT ?`,
  );
  const markDeleted = db.prepare('UPDATE documents SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL');

  return {
    listExpiredDocuments: (before: number, limit: number) => expired.all(before, limit) as DocumentRow[],
    markDocumentDeleted(documentId: string, now: number): void {
      markDeleted.run(now, documentId);
    },
  };
}
