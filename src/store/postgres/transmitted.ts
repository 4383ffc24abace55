import type { Pool } from 'pg';

import type { DocumentRow } from '../jobStore.js';
import { insertDocument } from './insertDocument.js';
import { withTransaction } from './transaction.js';

/**
 * Stores the PDF a job transmits and links it, in one transaction, while `owner` holds the job; the first one
 * linked stands (a worker that lost its lease, or came second, rolls its document row back).
 */
export async function recordTransmittedDocument(
  pool: Pool,
  jobId: string,
  owner: string,
  document: Omit<DocumentRow, 'deleted_at'>,
): Promise<boolean> {
  try {
    return await withTransaction(pool, async (client) => {
      // The row first: the link's foreign key is checked at once.
      await insertDocument(client, document);
      const linked = await client.query(
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

export async function getTransmittedDocument(pool: Pool, jobId: string): Promise<DocumentRow | null> {
  const { rows } = await pool.query<DocumentRow>(
    `SELECT d.* FROM documents d JOIN jobs j ON j.transmitted_document_id = d.id WHERE j.id = $1`,
    [jobId],
  );
  return rows[0] ?? null;
}

class NotLinked extends Error {}
