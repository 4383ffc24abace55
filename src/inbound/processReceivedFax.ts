/**
 * One claimed `received` row: download the PDF (refreshing an expired link), store it, then in one
 * transaction record the document, move the row to `mailed` and queue the mail. A crash before that commit
 * leaves the row `received`, and its lease runs out, so another pass downloads it again (the storage key is
 * the fax id's, so a second copy overwrites the first); after the commit the outbox owns the email.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import type { Dispatcher } from 'undici';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import { countPdfPages } from '../documents/countPdfPages.js';
import { calculateDelay } from '../lib/backoff.js';
import { makePrivateDir } from '../lib/privateFiles.js';
import { DAY, MINUTE, SECOND } from '../lib/units.js';
import type { InboundFaxChange, InboundFaxRow } from '../store/jobStore.js';
import type { TelnyxClient } from '../telnyx/client.js';
import { fetchReceivedFax } from './fetchReceivedFax.js';
import type { RecordDeps } from './recordInbound.js';
import { adminRecipients, inboundMailEntry, routeInbound } from './routing.js';

export interface ProcessDeps extends RecordDeps {
  documents: DocumentStorage;
  telnyx: Pick<TelnyxClient, 'refreshFaxMedia' | 'getFax'>;
  dispatcher: Dispatcher;
  maxBytes?: number;
  signal?: AbortSignal;
  /** The whole fetch of one fax (download, refresh, second download) ends by then (default 5 min). */
  fetchDeadlineMs?: number;
}

const RETRY_BACKOFF = { baseMs: 30 * SECOND, maxMs: 30 * MINUTE };
/**
 * A media server that sends a byte now and then defeats idle timeouts; past this the fetch is given up and
 * retried later like any failed download. Well inside the lease, so no other worker takes the fax meanwhile.
 */
const FETCH_DEADLINE_MS = 5 * MINUTE;
/** Failed download rounds (each one tried a refresh) before the admin is told; told once. */
const TELL_ADMIN_AFTER_ATTEMPTS = 3;
/** After this the fax is given up and its recipients are told it could not be fetched. */
const GIVE_UP_AFTER = 3 * DAY;
export const DOWNLOAD_FAILED_REASON = 'media_download_failed';

export async function processReceivedFax(
  deps: ProcessDeps,
  row: InboundFaxRow,
  owner: string,
): Promise<void> {
  const log = deps.log.child({ fax: row.fax_id });
  const tmpDir = path.join(deps.config.data_dir, 'tmp');
  await makePrivateDir(tmpDir);
  const target = path.join(tmpDir, `inbound-${randomBytes(6).toString('hex')}.pdf`);
  try {
    const deadlineMs = deps.fetchDeadlineMs ?? FETCH_DEADLINE_MS;
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal = deps.signal ? AbortSignal.any([deps.signal, deadline]) : deadline;
    let fetched = await fetchReceivedFax({ ...deps, signal }, row, target);
    if (fetched.kind === 'failed' && deadline.aborted) {
      fetched = { ...fetched, reason: `not fetched within ${deadlineMs / SECOND} s: ${fetched.reason}` };
    }
    let change: InboundFaxChange;
    if (fetched.kind === 'ok') {
      if (fetched.refreshed) log.info('media_url had expired; downloaded through a refreshed link');
      change = await storeDocument(deps, row, target, fetched);
    } else {
      change = planRetry(deps, row, fetched.reason, fetched.mediaUrl);
    }
    if (!(await deps.store.updateInboundFax(row.fax_id, owner, change, deps.clock.now()))) {
      log.warn('lost the lease on an inbound fax; another worker finishes it');
      return;
    }
    report(deps, row, change);
  } finally {
    await rm(target, { force: true });
  }
}

async function storeDocument(
  deps: ProcessDeps,
  row: InboundFaxRow,
  file: string,
  fetched: { size: number; sha256: string; mediaUrl: string },
): Promise<InboundFaxChange> {
  const now = deps.clock.now();
  // Telnyx gave no page count (the missed-fax poll): counted in the sandbox, null when it cannot be read.
  const pages = row.pages ?? (await countPdfPages(file, deps.log.child({ fax: row.fax_id })));
  const storageKey = `inbound/${row.fax_id.replace(/[^A-Za-z0-9_-]/g, '_')}.pdf`;
  await deps.documents.put(storageKey, file, 'application/pdf');
  const route = routeInbound(deps.config, row.to_number);
  return {
    status: route ? 'mailed' : 'unrouted',
    document: {
      id: `doc_${randomBytes(12).toString('base64url')}`,
      storage_key: storageKey,
      sha256: fetched.sha256,
      size: fetched.size,
      pages: pages ?? 0,
      filename: faxFilename(row),
      created_at: now,
    },
    pages,
    media_url: fetched.mediaUrl,
    last_error: null,
    run_at: null,
    finished_at: now,
    outbox: route
      ? [
          inboundMailEntry({
            fax_id: row.fax_id,
            mail: 'fax',
            to: route.recipients,
            mode: route.mode,
            unrouted: route.unrouted,
          }),
        ]
      : [],
  };
}

/** Backoff and try again; tell the admin once it keeps failing; after GIVE_UP_AFTER tell the recipients. */
function planRetry(
  deps: ProcessDeps,
  row: InboundFaxRow,
  reason: string,
  mediaUrl: string | null,
): InboundFaxChange {
  const now = deps.clock.now();
  // Shutting down is not the fax's fault: hand it back at once, uncounted towards telling anyone.
  if (deps.signal?.aborted) return { run_at: now, media_url: mediaUrl, last_error: reason };
  if (now - row.created_at >= GIVE_UP_AFTER) {
    const route = routeInbound(deps.config, row.to_number);
    return {
      status: 'abandoned',
      failure_reason: DOWNLOAD_FAILED_REASON,
      last_error: reason,
      run_at: null,
      finished_at: now,
      outbox: route
        ? [
            inboundMailEntry({
              fax_id: row.fax_id,
              mail: 'failed',
              to: route.recipients,
              unrouted: route.unrouted,
              detail: reason,
            }),
          ]
        : [],
    };
  }
  const admins = adminRecipients(deps.config);
  const tell =
    row.admin_notified_at === null && row.attempts >= TELL_ADMIN_AFTER_ATTEMPTS && admins.length > 0;
  return {
    run_at: now + calculateDelay(row.attempts, RETRY_BACKOFF),
    media_url: mediaUrl,
    last_error: reason,
    ...(tell
      ? {
          admin_notified_at: now,
          outbox: [inboundMailEntry({ fax_id: row.fax_id, mail: 'trouble', to: admins, detail: reason })],
        }
      : {}),
  };
}

function report(deps: ProcessDeps, row: InboundFaxRow, change: InboundFaxChange): void {
  const log = deps.log.child({ fax: row.fax_id });
  const fields = { from: row.from_number, to: row.to_number, attempt: row.attempts };
  if (change.status === 'mailed' || change.status === 'unrouted') {
    deps.counters?.received();
    const entry = change.outbox?.[0]?.payload as { to?: string[]; unrouted?: boolean } | undefined;
    if (!entry) {
      deps.counters?.unrouted();
      log.error(fields, 'fax stored but nobody can be mailed: no route, no "*" route and no admin addresses');
    } else if (entry.unrouted) {
      deps.counters?.unrouted();
      log.warn({ ...fields, admin: entry.to }, 'no inbound route for the called number; sent to the admin');
    } else {
      log.info({ ...fields, recipients: entry.to, size: change.document?.size }, 'fax stored; mail queued');
    }
  } else if (change.status === 'abandoned') {
    log.error({ ...fields, err: change.last_error }, 'giving up downloading a received fax');
  } else {
    const retryInMs = (change.run_at ?? 0) - deps.clock.now();
    log.warn({ ...fields, reason: change.last_error, retryInMs }, 'received fax not downloaded; will retry');
    if (
      row.admin_notified_at === null &&
      row.attempts >= TELL_ADMIN_AFTER_ATTEMPTS &&
      !change.admin_notified_at
    ) {
      log.error(fields, 'the download keeps failing and there is no admin address to tell');
    }
  }
  if (change.outbox?.length) deps.onQueued?.();
}

/** `fax-15551234567-20260822-1633.pdf`: who and when, readable in a mail client's attachment list. */
function faxFilename(row: InboundFaxRow): string {
  const caller = (row.from_number ?? '').replace(/\D/g, '') || 'unknown';
  const stamp = new Date(row.received_at).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `fax-${caller}-${stamp}.pdf`;
}
