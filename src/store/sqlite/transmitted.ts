import type Database from 'better-sqlite3';

import type { DocumentRow } from '../jobStore.js';
import { INSERT_DOCUMENT_SQL } from './insertDocument.js';

/** The PDF each job transmits: stored once, before its first attempt, and read for every later one. */
export function makeSqliteTransmitted(db: Database.Database) {
  const insertDocument = db.prepare(INSERT_DOCUMENT_SQL);
  const link = db.prepare(
    `UPDATE jobs SET transmitted_document_id = ?
     WHERE id = ? AND lease_owner = ? AND transmitted_document_id IS NULL`,
  );
  const read = db.prepare(
    `SELECT d.* FROM documents d JOIN jobs j ON j.transmitted_document_id = d.id WHERE j.id = ?`,
  );
  const record = db.transaction((jobId: string, owner: string, document: Omit<DocumentRow, 'deleted_at'>) => {
    insertDocument.run(document);
    if (link.run(document.id, jobId, owner).changes === 1) return true;
    // Not ours to link: roll the document row back with the transaction.
    throw new NotLinked();
  });
  return {
    recordTransmittedDocument(jobId: string, owner: string, document: Omit<DocumentRow, 'deleted_at'>) {
      try {
        return record.immediate(jobId, owner, document);
      } catch (error) {
        if (error instanceof NotLinked) return false;
        throw error;
      }
    },
    getTransmittedDocument: (jobId: string) => (read.get(jobId) as DocumentRow | undefined) ?? null,
  };
}

class NotLinked extends Error {}
