/**
 * Retention (docs/behaviour.md §9): documents (sent and received) and outbox `.eml` files older than
 * `retention.days` are deleted; `0` keeps everything. Rows stay, with `documents.deleted_at` set, so job and
 * fax metadata outlive the bytes. Documents of jobs still in progress are never touched (the store's query
 * leaves them out). The clock is injected so tests can jump a month ahead.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import type { Config } from '../config/loadConfig.js';
import type { Ctx } from '../context.js';
import { coerceError } from '../errors.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import type { Stoppable } from '../lib/stopStack.js';
import { DAY, HOUR } from '../lib/units.js';

export interface RetentionDeps extends Pick<Ctx, 'store' | 'documents' | 'clock' | 'log'> {
  config: Pick<Config, 'retention' | 'data_dir'>;
  /** Where the mailer writes `.eml` files without a relay (default `<data_dir>/outbox`). */
  outboxDir?: string;
}

export interface SweepResult {
  documents: number;
  emlFiles: number;
}

const BATCH = 100;

export async function sweepRetention(deps: RetentionDeps): Promise<SweepResult> {
  const days = deps.config.retention.days;
  if (days <= 0) return { documents: 0, emlFiles: 0 };
  const cutoff = deps.clock.now() - days * DAY;
  const documents = await deleteDocuments(deps, cutoff);
  const emlFiles = await deleteEmlFiles(deps.outboxDir ?? path.join(deps.config.data_dir, 'outbox'), cutoff);
  if (documents > 0 || emlFiles > 0) {
    deps.log.info({ documents, emlFiles, days }, 'retention: deleted documents and outbox files');
  }
  // The console's audit log names who looked at which fax: it is kept exactly as long as the faxes.
  const auditEntries = await deps.store.forgetAudit(cutoff);
  if (auditEntries > 0) deps.log.info({ auditEntries, days }, 'retention: forgot console audit entries');
  return { documents, emlFiles };
}

async function deleteDocuments(deps: RetentionDeps, cutoff: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const batch = await deps.store.listExpiredDocuments(cutoff, BATCH);
    let failed = 0;
    for (const document of batch) {
      try {
        // Bytes first, row second: a crash in between leaves a row that is deleted again next time.
        await deps.documents.delete(document.storage_key);
        await deps.store.markDocumentDeleted(document.id, deps.clock.now());
        deleted++;
      } catch (error) {
        failed++;
        deps.log.warn(
          { err: coerceError(error), document: document.id },
          'retention: cannot delete document',
        );
      }
    }
    // A batch with failures would come back the same: stop until the next sweep.
    if (batch.length < BATCH || failed > 0) return deleted;
  }
}

/** By modification time: the mailer writes each file once (a resend of the same mail replaces it). */
async function deleteEmlFiles(dir: string, cutoff: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0; // no outbox folder: mail goes through a relay
  }
  let deleted = 0;
  for (const name of names) {
    if (!name.endsWith('.eml')) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile() && info.mtimeMs < cutoff) {
      await rm(file, { force: true });
      deleted++;
    }
  }
  return deleted;
}

/** Webhook event ids are remembered for 7 days (docs/behaviour.md §5); Telnyx does not redeliver older ones. */
export const EVENT_MEMORY = 7 * DAY;

/** Forgets processed events past EVENT_MEMORY, whatever retention.days says: they are not documents. */
export async function forgetOldEvents(deps: Pick<RetentionDeps, 'store' | 'clock' | 'log'>): Promise<number> {
  const forgotten = await deps.store.forgetEvents(deps.clock.now() - EVENT_MEMORY);
  if (forgotten > 0) deps.log.info({ events: forgotten }, 'forgot webhook events older than 7 days');
  return forgotten;
}

/** Sweeps at start and then hourly; the clock the sweep judges ages by is `ctx.clock`. */
export function startRetention(ctx: Ctx): Stoppable {
  const deps: RetentionDeps = { ...ctx, log: ctx.log.child({ component: 'retention' }) };
  return startPollingLoop(
    async () => {
      await Promise.all([sweepRetention(deps), forgetOldEvents(deps)]);
    },
    { everyMs: HOUR, name: 'retention sweep', log: deps.log },
  );
}
