import { randomBytes } from 'node:crypto';

import { newId } from '../lib/ids.js';
import { MINUTE } from '../lib/units.js';
import type { JobRow, JobStore, Transition } from '../store/jobStore.js';
import type { TelnyxClient } from '../telnyx/types.js';

/*
 * What an operator does to one job by hand, shared by the CLI (`faxbridge retry` / `cancel`) and the web
 * console so both follow exactly the same rules. Refusals are OperatorRefusal with a sentence for a person.
 */

/** The action cannot be done now, with the reason in plain words (the CLI prints it, the console shows it). */
export class OperatorRefusal extends Error {}

/** Telnyx's failure_reason for a fax its sender canceled; receipts explain it in plain words. */
const CANCELED_REASON = 'sender_canceled';
/** Long enough for one Telnyx call; a worker simply finds the job canceled afterwards. */
const CANCEL_LEASE = 2 * MINUTE;

/**
 * Queues a NEW job for the same document, number and sender as a failed or canceled job, with a fresh budget
 * of `maxAttempts`; the old job keeps its history and its receipt. A new job rather than a reset keeps "each
 * job state changes once" true, and gives the new outcome its own receipt (receipts are unique per job).
 */
export async function retryFinishedJob(
  store: JobStore,
  id: string,
  maxAttempts: number,
  now: number,
): Promise<JobRow> {
  const job = await store.getJob(id);
  if (!job) throw new OperatorRefusal(`no job ${id}`);
  if (job.status !== 'failed' && job.status !== 'canceled') {
    throw new OperatorRefusal(
      job.status === 'delivered'
        ? `job ${id} was delivered; to fax it again, send it again`
        : `job ${id} is still ${job.status}; it is being worked on`,
    );
  }
  const message = await store.getMessage(job.message_row_id);
  const document = message ? await store.getDocument(message.document_id) : null;
  if (!document || document.deleted_at !== null) {
    throw new OperatorRefusal(`the document of job ${id} was deleted by retention; send it again`);
  }
  const retried = await store.retryJob(id, newId('fx'), maxAttempts, now);
  if (!retried) throw new OperatorRefusal(`job ${id} changed meanwhile; look at it again`);
  return retried;
}

export interface CancelOptions {
  /** Tells Telnyx to stop a placed fax; throws OperatorRefusal when Telnyx refuses. Null: nobody to tell. */
  cancelAtTelnyx: ((faxId: string) => Promise<void>) | null;
  /** Queue the failure receipt (receipts.on_failed). */
  failedReceipt: boolean;
  /** Who canceled, for the job's failure detail ("faxbridge cancel", "the web console"). */
  by: string;
  now: () => number;
}

/**
 * A queued job is canceled here; a placed one is canceled at Telnyx first and only then marked. The job is
 * leased like a worker would, so a worker cannot write over the cancel.
 */
export async function cancelJob(store: JobStore, id: string, options: CancelOptions): Promise<JobRow> {
  const job = await store.getJob(id);
  if (!job) throw new OperatorRefusal(`no job ${id}`);
  if (job.status !== 'queued' && job.status !== 'placed')
    throw new OperatorRefusal(`job ${id} is already ${job.status}`);
  const owner = `operator-cancel-${randomBytes(6).toString('hex')}`;
  const leased = await store.leaseJob(id, owner, options.now(), CANCEL_LEASE);
  if (!leased) throw new OperatorRefusal(`job ${id} is being worked on right now; try again in a moment`);
  let transition: Transition | null = null;
  try {
    transition = await cancelTransition(store, leased, options);
  } finally {
    // An empty transition only releases the lease: the job goes on as before.
    await store.completeWork(id, owner, transition ?? {}, options.now());
  }
  return leased;
}

async function cancelTransition(store: JobStore, job: JobRow, options: CancelOptions): Promise<Transition> {
  const attempts = await store.listAttempts(job.id);
  const current = attempts.find((attempt) => attempt.attempt === job.attempt) ?? null;
  if (current?.state === 'posting') {
    // A request whose answer was lost: a fax may exist at Telnyx that we do not know the id of yet.
    throw new OperatorRefusal(
      `job ${job.id}: the last request to Telnyx had no clear answer and is being checked; try again shortly`,
    );
  }
  const placed = job.status === 'placed' && current?.state === 'placed' && current.fax_id;
  if (placed && options.cancelAtTelnyx) await options.cancelAtTelnyx(current.fax_id!);
  const now = options.now();
  return {
    job: {
      status: 'canceled',
      run_at: null,
      finished_at: now,
      failure_reason: CANCELED_REASON,
      failure_detail: `canceled by the operator (${options.by})`,
    },
    // The attempt is final now, so Telnyx's own fax.failed (sender_canceled) is recorded as already_final.
    attempt: placed
      ? {
          attempt: current.attempt,
          state: 'failed',
          fax_status: 'failed',
          ended_at: now,
          failure_reason: CANCELED_REASON,
        }
      : undefined,
    outbox: options.failedReceipt ? [{ kind: 'receipt_failed' }] : [],
  };
}

/** Asks Telnyx to cancel a fax with `telnyx`; refusals and unreachable API become OperatorRefusal. */
export async function cancelWithClient(telnyx: TelnyxClient, faxId: string): Promise<void> {
  const outcome = await telnyx.cancelFax(faxId);
  if (outcome.kind === 'rejected') {
    throw new OperatorRefusal(
      `Telnyx refused to cancel fax ${faxId} (${outcome.status}: ${outcome.detail}); it may be finishing`,
    );
  }
  if (outcome.kind !== 'ok') throw new OperatorRefusal(`Telnyx could not be reached: ${outcome.reason}`);
}
