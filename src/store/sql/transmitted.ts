import type { Db, Queryable } from '../db.js';
import type { DocumentRow } from '../jobStore.js';
import { insertDocument } from './insertDocument.js';

/**
 * Stores the PDF a job transmits (cover, header lines, document) and links it to the job, in one transaction,
 * while `owner` holds the job's lease. The first one linked stands: a worker that lost its lease, or came
 * second, rolls its document row back and gets false.
 */
export async function recordTransmittedDocument(
  db: Db,
  jobId: string,
  owner: string,
  document: Omit<DocumentRow, 'deleted_at'>,
): Promise<boolean> {
  try {
    return await db.transaction(async (tx) => {
      // The row first: the link's foreign key is checked at once.
      await insertDocument(tx, document);
      const linked = await tx.query(
        `UPDATE jobs SET transmitted_document_id = $1
         WHERE id = $2 AND lease_owner = $3 AND transmitted_document_id IS NULL`,
        [document.id, jobId, owner],
      );
      if (linked.rowCount !== 1) throw new NotLinked();
      return true;
    });
  } catch (error) {
    if (error instanceof NotLinked) return false;
    throw error;
  }
}

/** The document a job transmitted, or null before its first attempt. */
export async function getTransmittedDocument(db: Queryable, jobId: string): Promise<DocumentRow | null> {
  const { rows } = await db.query<DocumentRow>(
    `SELECT d.* FROM documents d JOIN jobs j ON j.transmitted_document_id = d.id WHERE j.id = $1`,
    [jobId],
  );
  return rows[0] ?? null;
}

/** Thrown inside the transaction to roll the document row back when the job could not be linked. */
class NotLinked extends Error {}
