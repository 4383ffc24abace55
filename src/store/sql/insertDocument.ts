import type { Queryable } from '../db.js';
import type { DocumentRow } from '../jobStore.js';

/** One document row; both sent faxes (intake) and received ones (inbound) store theirs this way. */
export async function insertDocument(
  db: Queryable,
  document: Omit<DocumentRow, 'deleted_at'>,
): Promise<void> {
  await db.query(
    `INSERT INTO documents (id, storage_key, sha256, size, pages, filename, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      document.id,
      document.storage_key,
      document.sha256,
      document.size,
      document.pages,
      document.filename,
      document.created_at,
    ],
  );
}
