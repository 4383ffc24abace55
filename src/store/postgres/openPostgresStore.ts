import pg from 'pg';

import type { JobStore } from '../jobStore.js';
import { claimJobs } from './claimJobs.js';
import { applyIfLeased } from './completeWork.js';
import { parsePostgresUrl } from './connectionConfig.js';
import {
  countActivity,
  forgetAudit,
  listAudit,
  recordAudit,
  searchInboundFaxes,
  searchJobs,
} from './consoleQueries.js';
import { forgetEvents, listUnprocessedEvents, recordEvent } from './events.js';
import { claimInboundFaxes, getInboundFax, recordInboundFax, updateInboundFax } from './inbound.js';
import { acceptMessage, findResentMessage, getDocument, getMessage } from './intake.js';
import { countJobs, getJob, listAttempts, listJobs, renewLease } from './jobs.js';
import { migratePostgres } from './migrate.js';
import {
  leaseJob,
  listEventsOfFaxes,
  listJobsOfMessage,
  listOutboxOfJob,
  recordReceiptBounce,
  retryJob,
} from './operator.js';
import { claimOutbox, countOutbox, markOutboxRetry, markOutboxSent } from './outbox.js';
import { processEvent } from './processEvent.js';
import { listExpiredDocuments, markDocumentDeleted } from './retention.js';
import { countSenderUsage } from './senderUsage.js';
import { asPostgresStoreError } from './storeError.js';

export interface PostgresStoreOptions {
  /**
   * Told about errors on idle pooled connections (the server restarted, a proxy cut the socket). pg emits
   * them on the pool, and an unhandled 'error' event would kill the process; the next query reconnects.
   */
  onPoolError?: (error: Error) => void;
  /** Clock for schema_migrations.applied_at. */
  now?: () => number;
}

/**
 * The shared store for several instances (product.md §9): one pg Pool per instance, migrations under an
 * advisory lock at open, jobs and outbox rows claimed with FOR UPDATE SKIP LOCKED under leases, webhook
 * events processed once under a row lock. `database.url` may carry `?schema=NAME` (connectionConfig.ts).
 * Like the SQLite store, the returned store is migrated and ready; migrate() may be called again (a no-op).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<JobStore> {
  const { pool: poolConfig, schema } = parsePostgresUrl(url);
  const pool = new pg.Pool(poolConfig);
  pool.on('error', (error) => options.onPoolError?.(error));
  const now = options.now ?? Date.now;

  const guard =
    <A extends unknown[], R>(fn: (pool: pg.Pool, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(pool, ...args);
      } catch (error) {
        throw asPostgresStoreError(error);
      }
    };

  const migrate = guard(async (p: pg.Pool) => {
    await migratePostgres(p, schema, now());
  });
  try {
    await migrate();
  } catch (error) {
    await pool.end();
    throw error;
  }

  let closed = false;
  return {
    dialect: 'postgres',
    migrate,
    ping: guard(async (p: pg.Pool) => {
      await p.query('SELECT 1');
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    findResentMessage: guard(findResentMessage),
    acceptMessage: guard(acceptMessage),
    countSenderUsage: guard(countSenderUsage),
    getJob: guard(getJob),
    getMessage: guard(getMessage),
    getDocument: guard(getDocument),
    listAttempts: guard(listAttempts),
    listJobs: guard(listJobs),
    countJobs: guard(countJobs),
    claimJobs: guard(claimJobs),
    renewLease: guard(renewLease),
    completeWork: guard((p, jobId: string, owner: string, transition, at: number) =>
      applyIfLeased(p, jobId, owner, transition, at, true),
    ),
    applyWhileLeased: guard((p, jobId: string, owner: string, transition, at: number) =>
      applyIfLeased(p, jobId, owner, transition, at, false),
    ),
    recordEvent: guard(recordEvent),
    listUnprocessedEvents: guard(listUnprocessedEvents),
    processEvent: guard(processEvent),
    forgetEvents: guard(forgetEvents),
    claimOutbox: guard(claimOutbox),
    markOutboxSent: guard(markOutboxSent),
    markOutboxRetry: guard(markOutboxRetry),
    countOutbox: guard(countOutbox),
    recordInboundFax: guard(recordInboundFax),
    claimInboundFaxes: guard(claimInboundFaxes),
    updateInboundFax: guard(updateInboundFax),
    getInboundFax: guard(getInboundFax),
    listExpiredDocuments: guard(listExpiredDocuments),
    markDocumentDeleted: guard(markDocumentDeleted),
    leaseJob: guard(leaseJob),
    retryJob: guard(retryJob),
    listJobsOfMessage: guard(listJobsOfMessage),
    listOutboxOfJob: guard(listOutboxOfJob),
    recordReceiptBounce: guard(recordReceiptBounce),
    listEventsOfFaxes: guard(listEventsOfFaxes),
    searchJobs: guard(searchJobs),
    searchInboundFaxes: guard(searchInboundFaxes),
    recordAudit: guard(recordAudit),
    listAudit: guard(listAudit),
    forgetAudit: guard(forgetAudit),
    countActivity: guard(countActivity),
  };
}
