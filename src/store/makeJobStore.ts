import type { Db } from './db.js';
import { withGroupCommit } from './groupCommit.js';
import type { JobStore } from './jobStore.js';
import { migrate } from './migrate.js';
import { claimInboundFaxes, getInboundFax } from './sql/claimInboundFaxes.js';
import { claimJobs } from './sql/claimJobs.js';
import { claimOutbox } from './sql/claimOutbox.js';
import { applyIfLeased } from './sql/completeWork.js';
import {
  countActivity,
  forgetAudit,
  listAudit,
  recordAudit,
  searchInboundFaxes,
  searchJobs,
} from './sql/consoleQueries.js';
import { countSenderUsage } from './sql/countSenderUsage.js';
import { forgetEvents, listUnprocessedEvents, recordEvent } from './sql/events.js';
import { acceptMessage, findResentMessage } from './sql/intake.js';
import { releaseOrphanedLeases, renewLease } from './sql/leases.js';
import { markOutboxRetry, markOutboxSent } from './sql/markOutbox.js';
import {
  leaseJob,
  listEventsOfFaxes,
  listJobsOfMessage,
  listOutboxOfJob,
  recordReceiptBounce,
  retryJob,
} from './sql/operator.js';
import { processEvent } from './sql/processEvent.js';
import { queueInboundResend } from './sql/queueInboundResend.js';
import {
  countJobs,
  countOutbox,
  getDocument,
  getJob,
  getMessage,
  listAttempts,
  listJobs,
} from './sql/reads.js';
import { recordInboundFax } from './sql/recordInboundFax.js';
import { listExpiredDocuments, markDocumentDeleted } from './sql/retention.js';
import { getTransmittedDocument, recordTransmittedDocument } from './sql/transmitted.js';
import { updateInboundFax } from './sql/updateInboundFax.js';

export interface JobStoreOptions {
  /** PostgreSQL `?schema=`: created by migrate() when missing. */
  schema?: string | null;
  /** Clock for schema_migrations.applied_at. */
  now?: () => number;
}

/**
 * The JobStore: every operation of src/store/sql, bound to one database. Nothing here knows the dialect
 * except the one operation only the embedded store has (releaseOrphanedLeases).
 */
export function makeJobStore(db: Db, options: JobStoreOptions = {}): JobStore {
  const now = options.now ?? Date.now;
  const on =
    <A extends unknown[], R>(operation: (db: Db, ...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      operation(db, ...args);

  /*
   * Webhook events, the mails accepted over SMTP and the job runner's transactions (claim, transmitted document,
   * attempt, outcome: about four per fax) are stored in group commits on SQLite (groupCommit.ts): a commit there
   * is synchronous work on the event loop (its fsync is not: sqlite/walSync.ts). Each stays atomic on its own,
   * serialised with every other writer, and its caller hears back only after its group's COMMIT and fsync, so a
   * 250 still means document and jobs are durable. PostgreSQL commits on many pooled connections at once and
   * groups their WAL flushes itself, so there each operation keeps its own transaction.
   */
  const groupedDb = db.dialect === 'sqlite' ? withGroupCommit(db) : db;

  return {
    dialect: db.dialect,
    migrate: async () => {
      await migrate(db, { schema: options.schema ?? null, now: now() });
    },
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: () => db.close(),
    findResentMessage: on(findResentMessage),
    acceptMessage: (...args) => acceptMessage(groupedDb, ...args),
    countSenderUsage: on(countSenderUsage),
    getJob: on(getJob),
    getMessage: on(getMessage),
    getDocument: on(getDocument),
    listAttempts: on(listAttempts),
    listJobs: on(listJobs),
    countJobs: on(countJobs),
    claimJobs: (...args) => claimJobs(groupedDb, ...args),
    // One daemon owns a SQLite file; on PostgreSQL other live instances hold leases (see leases.ts).
    ...(db.dialect === 'sqlite' ? { releaseOrphanedLeases: on(releaseOrphanedLeases) } : {}),
    renewLease: on(renewLease),
    completeWork: (jobId, owner, transition, at) =>
      applyIfLeased(groupedDb, jobId, owner, transition, at, true),
    applyWhileLeased: (jobId, owner, transition, at) =>
      applyIfLeased(groupedDb, jobId, owner, transition, at, false),
    recordEvent: (event) =>
      db.dialect === 'sqlite'
        ? groupedDb.transaction((tx) => recordEvent(tx, event))
        : recordEvent(db, event),
    listUnprocessedEvents: on(listUnprocessedEvents),
    processEvent: (...args) => processEvent(groupedDb, ...args),
    forgetEvents: on(forgetEvents),
    claimOutbox: on(claimOutbox),
    markOutboxSent: on(markOutboxSent),
    markOutboxRetry: on(markOutboxRetry),
    countOutbox: on(countOutbox),
    recordInboundFax: on(recordInboundFax),
    claimInboundFaxes: on(claimInboundFaxes),
    updateInboundFax: on(updateInboundFax),
    getInboundFax: on(getInboundFax),
    listExpiredDocuments: on(listExpiredDocuments),
    markDocumentDeleted: on(markDocumentDeleted),
    leaseJob: on(leaseJob),
    retryJob: on(retryJob),
    recordTransmittedDocument: (...args) => recordTransmittedDocument(groupedDb, ...args),
    getTransmittedDocument: on(getTransmittedDocument),
    listJobsOfMessage: on(listJobsOfMessage),
    listOutboxOfJob: on(listOutboxOfJob),
    recordReceiptBounce: on(recordReceiptBounce),
    listEventsOfFaxes: on(listEventsOfFaxes),
    searchJobs: on(searchJobs),
    searchInboundFaxes: on(searchInboundFaxes),
    recordAudit: on(recordAudit),
    listAudit: on(listAudit),
    forgetAudit: on(forgetAudit),
    countActivity: on(countActivity),
    queueInboundResend: on(queueInboundResend),
  };
}
