import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { FaxError } from '../../errors.js';
import { preparePrivateDatabaseFile, PRIVATE_DIR_MODE } from '../../lib/privateFiles.js';
import type { JobStore } from '../jobStore.js';
import { SQLITE_MIGRATIONS } from '../migrations/sqlite.js';
import { makeSqliteConsoleQueries } from './consoleQueries.js';
import { makeSqliteEvents } from './events.js';
import { makeSqliteInbound } from './inbound.js';
import { makeSqliteIntake } from './intake.js';
import { makeSqliteJobs } from './jobs.js';
import { makeSqliteOperator } from './operator.js';
import { makeSqliteOutbox } from './outbox.js';
import { makeSqliteRetention } from './retention.js';
import { makeSqliteSenderUsage } from './senderUsage.js';

/**
 * The embedded store: one file, WAL, synchronous=FULL so that a commit is on disk before we answer 250
 * (node-stack.md §7: ~3,100 durable transactions/s here). better-sqlite3 is synchronous; the methods are async
 * only to share the JobStore interface with PostgreSQL. Several processes may open the same file: writers
 * serialise on SQLite's lock (busy_timeout), claims run in IMMEDIATE transactions.
 */
export function openSqliteStore(file: string): JobStore {
  if (file !== ':memory:') {
    mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
    preparePrivateDatabaseFile(file);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');

  const guard =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    async (...args: A): Promise<Awaited<R>> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw asStoreError(error);
      }
    };

  // Statements are prepared up front, so the schema must exist before the operation modules are built.
  migrate(db);
  const intake = makeSqliteIntake(db);
  const jobs = makeSqliteJobs(db);
  const events = makeSqliteEvents(db);
  const outbox = makeSqliteOutbox(db);
  const operator = makeSqliteOperator(db);
  const inbound = makeSqliteInbound(db);
  const retention = makeSqliteRetention(db);
  const senderUsage = makeSqliteSenderUsage(db);
  const consoleQueries = makeSqliteConsoleQueries(db);

  return {
    dialect: 'sqlite',
    migrate: guard(() => migrate(db)),
    ping: guard(() => {
      db.prepare('SELECT 1').get();
    }),
    close: async () => {
      if (db.open) db.close();
    },
    findResentMessage: guard(intake.findResentMessage),
    acceptMessage: guard(intake.acceptMessage),
    countSenderUsage: guard(senderUsage.countSenderUsage),
    getJob: guard(jobs.getJob),
    getMessage: guard(intake.getMessage),
    getDocument: guard(intake.getDocument),
    listAttempts: guard(jobs.listAttempts),
    listJobs: guard(jobs.listJobs),
    countJobs: guard(jobs.countJobs),
    claimJobs: guard(jobs.claimJobs),
    releaseOrphanedLeases: guard(() => {
      let freed = 0;
      for (const table of ['jobs', 'outbox', 'inbound_faxes']) {
        freed += db
          .prepare(`UPDATE ${table} SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL`)
          .run().changes;
      }
      return freed;
    }),
    renewLease: guard(jobs.renewLease),
    completeWork: guard(jobs.completeWork),
    applyWhileLeased: guard(jobs.applyWhileLeased),
    recordEvent: guard(events.recordEvent),
    listUnprocessedEvents: guard(events.listUnprocessedEvents),
    processEvent: guard(events.processEvent),
    forgetEvents: guard(events.forgetEvents),
    claimOutbox: guard(outbox.claimOutbox),
    markOutboxSent: guard(outbox.markOutboxSent),
    markOutboxRetry: guard(outbox.markOutboxRetry),
    countOutbox: guard(outbox.countOutbox),
    recordInboundFax: guard(inbound.recordInboundFax),
    claimInboundFaxes: guard(inbound.claimInboundFaxes),
    updateInboundFax: guard(inbound.updateInboundFax),
    getInboundFax: guard(inbound.getInboundFax),
    listExpiredDocuments: guard(retention.listExpiredDocuments),
    markDocumentDeleted: guard(retention.markDocumentDeleted),
    leaseJob: guard(operator.leaseJob),
    retryJob: guard(operator.retryJob),
    listJobsOfMessage: guard(operator.listJobsOfMessage),
    listOutboxOfJob: guard(operator.listOutboxOfJob),
    recordReceiptBounce: guard(operator.recordReceiptBounce),
    listEventsOfFaxes: guard(operator.listEventsOfFaxes),
    searchJobs: guard(consoleQueries.searchJobs),
    searchInboundFaxes: guard(consoleQueries.searchInboundFaxes),
    recordAudit: guard(consoleQueries.recordAudit),
    listAudit: guard(consoleQueries.listAudit),
    forgetAudit: guard(consoleQueries.forgetAudit),
    countActivity: guard(consoleQueries.countActivity),
  };
}

function migrate(db: Database.Database): void {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
  );
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((row) => (row as { version: number }).version),
  );
  for (const migration of SQLITE_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        Date.now(),
      );
    }).immediate();
  }
}

/** A locked, full or unreadable database is "unavailable" (451 at the SMTP edge, 503 at the webhook). */
function asStoreError(error: unknown): unknown {
  if (error instanceof FaxError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_') && !code.startsWith('SQLITE_CONSTRAINT')) {
    return new FaxError('database_unavailable', `database unavailable: ${(error as Error).message}`, {
      retryable: true,
      cause: error,
    });
  }
  if ((error as Error)?.message?.includes('database connection is not open')) {
    return new FaxError('database_unavailable', 'database is closed', { retryable: true, cause: error });
  }
  return error;
}
