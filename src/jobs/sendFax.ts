import type { Config } from '../config/loadConfig.js';
import type { Ctx } from '../context.js';
import { INTERNAL_FAILURE_REASONS } from '../domain/failureReasons.js';
import { decideOutbound, failJob, type OutboundPolicy } from '../domain/outboundDecision.js';
import { findSenderEntry } from '../domain/senders.js';
import { chooseQuality, parseSubjectTags } from '../domain/subjectTags.js';
import { FaxError } from '../errors.js';
import { calculateDelay } from '../lib/backoff.js';
import type { AcquireRankedSlot } from '../lib/rankedSlots.js';
import { DAY, MINUTE, SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { AttemptRow, DocumentRow, JobRow, MessageRow, Transition } from '../store/jobStore.js';
import { encodeClientState, type TelnyxOutcome } from '../telnyx/client.js';
import { ensureTransmittedDocument, TransmittedBuildFailed } from './transmittedDocument.js';

export type SendFaxDeps = Pick<Ctx, 'config' | 'store' | 'documents' | 'telnyx' | 'clock'> & {
  /**
   * The `telnyx.concurrency` slots a fax holds from its "posting" row to Telnyx's answer; the runner works a few
   * more jobs than that, whose transmitted PDFs are built meanwhile (startJobs.ts). Without it the runner's own
   * bound is the only one.
   */
  handoffSlots?: AcquireRankedSlot;
};

/** Failures after which the next attempt is placed with `t38_enabled: false`. */
const T38_SUSPECT = new Set(['fax_signaling_error', 'invalid_ecm_response_from_receiver']);

/** Backoff for API errors (not counted as attempts): 5 s doubling to 10 min, jittered. */
const API_BACKOFF = { baseMs: 5 * SECOND, maxMs: 10 * MINUTE };
/** GET /faxes looks this far before the attempt started, for clock skew (docs/behaviour.md §4). */
const RECONCILE_WINDOW = 10 * MINUTE;
/** After this long without a final event the outcome is declared unknown (docs/behaviour.md §4). */
const OUTCOME_UNKNOWN_AFTER = DAY;

export function outboundPolicy(config: Config): OutboundPolicy {
  return {
    retryDelays: config.retry.delays,
    finalEventTimeout: config.retry.final_event_timeout,
    receiptOnDelivered: config.receipts.on_delivered,
    receiptOnFailed: config.receipts.on_failed,
  };
}

/**
 * Works one claimed job and returns the transition to apply when releasing it. Exactly once
 * (docs/behaviour.md §4): the attempt row is durable in state `posting` before POST /faxes; a job found with
 * such a row after an uncertain outcome or a crash is reconciled with GET /faxes (client_state) before
 * anything is sent again.
 */
export async function workJob(
  deps: SendFaxDeps,
  job: JobRow,
  owner: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<Transition | null> {
  const attempts = await deps.store.listAttempts(job.id);
  const current = attempts.find((row) => row.attempt === job.attempt) ?? null;
  if (job.status === 'placed' && current?.fax_id) return checkPlacedFax(deps, job, current, log, signal);
  if (current?.state === 'posting') {
    const found = await reconcile(deps, job, current, log, signal);
    if (found !== 'absent') return found;
    return postFax(deps, { job, attempt: current.attempt, owner, log, signal, attempts });
  }
  return postFax(deps, { job, attempt: job.attempt + 1, owner, log, signal, attempts });
}

/** The job ends: its document was deleted (retention, an operator) before it could be sent. */
function documentGone(now: number): Transition {
  return {
    job: failJob(INTERNAL_FAILURE_REASONS.documentMissing, 'the stored document is no longer available', now),
    outbox: [{ kind: 'receipt_failed' }],
  };
}

/** One attempt to place a job's fax, as the worker holding the job's lease sees it. */
interface Posting {
  job: JobRow;
  /** The attempt's number: the job's next, or the current one again once reconciliation found no fax. */
  attempt: number;
  owner: string;
  log: Logger;
  signal: AbortSignal | undefined;
  /** The job's attempts as read when the work began. */
  attempts: AttemptRow[];
}

async function postFax(deps: SendFaxDeps, posting: Posting): Promise<Transition | null> {
  const { store, clock } = deps;
  const { job, attempt, owner, log, signal } = posting;
  const message = await store.getMessage(job.message_row_id);
  const document = message ? await store.getDocument(message.document_id) : null;
  if (!document || document.deleted_at !== null) return documentGone(clock.now());
  let transmitted;
  try {
    transmitted = await ensureTransmittedDocument(deps, job, message!, document, owner, clock.now(), log);
  } catch (error) {
    if (error instanceof FaxError && error.code === 'not_found') return documentGone(clock.now());
    if (!(error instanceof TransmittedBuildFailed)) throw error;
    log.error({ err: error }, 'the transmitted PDF (cover page, header lines) could not be built');
    return {
      job: failJob(INTERNAL_FAILURE_REASONS.notPrepared, error.message, clock.now()),
      outbox: [{ kind: 'receipt_failed' }],
    };
  }
  // Lost the job to another worker while building: it is theirs now.
  if (!transmitted) return null;
  let release: () => void;
  try {
    release = (await deps.handoffSlots?.(0, signal)) ?? (() => undefined);
  } catch (error) {
    // Shutting down while waiting for a slot: nothing was sent; the lease is given back for the next start.
    if (signal?.aborted) return {};
    throw error;
  }
  try {
    // Sending again after reconciliation found no fax: the wait for a slot may have been long (a 429 shuts the gate
    // for minutes), and the attempt's own webhook may have come meanwhile; then the event's state stands.
    if (attempt === job.attempt && !(await stillPosting(deps.store, job.id, attempt))) {
      log.info({ attempt }, 'an event settled the attempt while it waited to be sent again; not sending');
      return {};
    }
    return await handOff(deps, posting, message!, transmitted);
  } finally {
    release();
  }
}

async function stillPosting(store: SendFaxDeps['store'], jobId: string, attempt: number): Promise<boolean> {
  const row = (await store.listAttempts(jobId)).find((candidate) => candidate.attempt === attempt);
  return row?.state === 'posting';
}

/** The attempt itself: its "posting" row made durable, then POST /faxes, and what Telnyx's answer means. */
async function handOff(
  deps: SendFaxDeps,
  posting: Posting,
  message: MessageRow,
  transmitted: DocumentRow,
): Promise<Transition | null> {
  const { config, store, documents, telnyx, clock } = deps;
  const { job, attempt, owner, log, signal, attempts } = posting;
  const clientState = encodeClientState(job.id, attempt);
  const startedAt = clock.now();
  // Durable before the request: if we die during the call, the restart reconciles instead of resending.
  const held = await store.applyWhileLeased(
    job.id,
    owner,
    {
      job: { attempt },
      attempt: { attempt, state: 'posting', client_state: clientState, started_at: startedAt },
    },
    startedAt,
  );
  if (!held) return null;
  const mediaUrl = await documents.mediaUrl(transmitted.storage_key, config.storage.url_ttl, startedAt);
  const entry = findSenderEntry(config.senders, job.sender);
  const previous = attempts.find((row) => row.attempt === attempt - 1);
  log.info({ attempt, of: job.max_attempts }, 'sending fax to Telnyx');
  const outcome = await telnyx.sendFax(
    {
      connection_id: config.telnyx.connection_id ?? 'sandbox',
      from: job.from_number,
      to: job.to_number,
      media_url: mediaUrl,
      webhook_url: `${config.http.public_url}/webhooks/telnyx`,
      client_state: clientState,
      quality: chooseQuality(parseSubjectTags(message.subject), entry?.quality, config.telnyx.quality),
      // T.38 is what such handshake failures most often come from; the retry goes as plain audio (G.711).
      ...(previous && T38_SUSPECT.has(previous.failure_reason ?? '') ? { t38_enabled: false } : {}),
    },
    signal,
  );
  const now = clock.now();
  switch (outcome.kind) {
    case 'ok':
      log.info({ fax: outcome.value.id, attempt }, 'Telnyx accepted the fax');
      return {
        onlyIfAttemptState: { attempt, state: 'posting' },
        attempt: { attempt, state: 'placed', fax_id: outcome.value.id, fax_status: 'queued', placed_at: now },
        job: {
          status: 'placed',
          run_at: now + config.retry.final_event_timeout,
          api_error_since: null,
          last_error: null,
        },
      };
    case 'rejected':
      log.warn({ status: outcome.status, detail: outcome.detail }, 'Telnyx refused the fax');
      return {
        dropAttempt: attempt,
        job: failJob(INTERNAL_FAILURE_REASONS.apiRejected, outcome.detail, now),
        outbox: config.receipts.on_failed ? [{ kind: 'receipt_failed' }] : [],
      };
    case 'retry':
      // The request never reached Telnyx: it was no attempt.
      return withJob(apiError(deps, job, outcome, now), { attempt: attempt - 1 }, attempt);
    case 'uncertain':
      log.warn(
        { status: outcome.status, reason: outcome.reason },
        'uncertain outcome; will reconcile before any resend',
      );
      // An event may have shown the fax exists meanwhile; then the event's state stands.
      return { ...apiError(deps, job, outcome, now), onlyIfAttemptState: { attempt, state: 'posting' } };
  }
}

/** Looks for the attempt's fax at Telnyx by its exact client_state. */
async function reconcile(
  deps: SendFaxDeps,
  job: JobRow,
  attempt: AttemptRow,
  log: Logger,
  signal?: AbortSignal,
): Promise<Transition | 'absent'> {
  const listed = await deps.telnyx.listFaxes(
    {
      to: job.to_number,
      direction: 'outbound',
      createdAfter: new Date(attempt.started_at - RECONCILE_WINDOW),
    },
    signal,
  );
  const now = deps.clock.now();
  if (listed.kind !== 'ok') return apiError(deps, job, listed, now);
  const fax = listed.value.faxes.find((candidate) => candidate.client_state === attempt.client_state);
  // An entry we cannot read may be this attempt's fax (its client_state says so, or it carries none we can
  // read): calling it absent would send a second fax, so the answer counts as uncertain and we ask again later.
  const maybeOurs = listed.value.unreadable.filter(
    (entry) => entry.client_state === null || entry.client_state === attempt.client_state,
  );
  if (!fax && maybeOurs.length > 0) {
    const reason = `GET /faxes listed an entry that may be this attempt's fax but cannot be read: ${maybeOurs[0]!.snippet}`;
    log.warn({ attempt: attempt.attempt, entries: maybeOurs.length }, reason);
    return apiError(deps, job, { kind: 'uncertain', status: null, reason }, now);
  }
  if (!fax) {
    log.info({ attempt: attempt.attempt }, 'reconciled: Telnyx has no fax for this attempt; sending it');
    return 'absent';
  }
  log.info(
    { fax: fax.id, attempt: attempt.attempt },
    'reconciled: Telnyx already has this fax; not resending',
  );
  const decision = decideOutbound(job, attempt, observe(fax), outboundPolicy(deps.config), now);
  const placedNow: Transition = {
    attempt: { attempt: attempt.attempt, state: 'placed', fax_id: fax.id, placed_at: now },
    job: { status: 'placed', run_at: now + deps.config.retry.final_event_timeout, api_error_since: null },
  };
  return decision.transition ?? placedNow;
}

/** No final event for a while: ask Telnyx (docs/behaviour.md §4), and give up after 24 hours. */
async function checkPlacedFax(
  deps: SendFaxDeps,
  job: JobRow,
  attempt: AttemptRow,
  log: Logger,
  signal?: AbortSignal,
): Promise<Transition> {
  const { config, telnyx, clock } = deps;
  const fetched = await telnyx.getFax(attempt.fax_id!, signal);
  const now = clock.now();
  if (fetched.kind === 'ok') {
    const decision = decideOutbound(job, attempt, observe(fetched.value), outboundPolicy(config), now);
    if (
      decision.outcome === 'delivered' ||
      decision.outcome === 'failed' ||
      decision.outcome === 'retry_scheduled'
    ) {
      log.info({ fax: attempt.fax_id, outcome: decision.outcome }, 'final status found by polling Telnyx');
      return decision.transition!;
    }
  }
  const lastHeard = attempt.last_event_at ?? attempt.placed_at ?? attempt.started_at;
  if (now - lastHeard > OUTCOME_UNKNOWN_AFTER) {
    log.error({ fax: attempt.fax_id }, 'no final status after 24 hours; outcome unknown');
    return {
      job: failJob(INTERNAL_FAILURE_REASONS.outcomeUnknown, 'Telnyx never reported how this fax ended', now),
      outbox: [{ kind: 'receipt_failed' }, { kind: 'admin_notice', payload: { reason: 'outcome_unknown' } }],
    };
  }
  return { job: { run_at: now + config.retry.final_event_timeout } };
}

function apiError(
  deps: SendFaxDeps,
  job: JobRow,
  outcome: Exclude<TelnyxOutcome<unknown>, { kind: 'ok' }>,
  now: number,
): Transition {
  const since = job.api_error_since ?? now;
  const reason = 'reason' in outcome ? outcome.reason : `HTTP ${outcome.status}`;
  if (now - since >= deps.config.retry.api_give_up) {
    return {
      job: failJob(INTERNAL_FAILURE_REASONS.apiUnreachable, `Telnyx could not be reached: ${reason}`, now),
      outbox: deps.config.receipts.on_failed ? [{ kind: 'receipt_failed' }] : [],
    };
  }
  const retryAfter = outcome.kind === 'retry' ? outcome.retryAfterMs : null;
  const delay = retryAfter ?? calculateDelay(job.api_errors + 1, API_BACKOFF);
  return {
    job: { run_at: now + delay, api_error_since: since, api_errors: job.api_errors + 1, last_error: reason },
  };
}

/** Adds job fields to a transition and drops the posting row of an attempt that never reached Telnyx. */
function withJob(transition: Transition, job: Transition['job'], dropAttempt: number): Transition {
  return { ...transition, dropAttempt, job: { ...job, ...transition.job } };
}

function observe(fax: {
  id: string;
  status: string;
  failure_reason?: string | null;
  page_count?: number | null;
}) {
  return {
    faxId: fax.id,
    status: fax.status,
    failureReason: fax.failure_reason ?? null,
    pages: fax.page_count ?? null,
  };
}
