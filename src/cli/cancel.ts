import { randomBytes } from 'node:crypto';

import type { Config } from '../config/loadConfig.js';
import { MINUTE } from '../lib/units.js';
import type { JobRow, JobStore, Transition } from '../store/jobStore.js';
import { makeTelnyxClient } from '../telnyx/client.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { type CliIo, type Command, EXIT, ProblemError } from './io.js';
import { withStore } from './offline.js';

/** Telnyx's failure_reason for a fax its sender canceled; receipts explain it in plain words. */
const CANCELED_REASON = 'sender_canceled';
/** Long enough for one Telnyx call; a worker simply finds the job canceled afterwards. */
const CANCEL_LEASE = 2 * MINUTE;

/**
 * `faxbridge cancel ID`: a queued job is canceled here; a placed one is canceled at Telnyx first (POST
 * /faxes/{id}/actions/cancel) and only then marked. The job is leased like a worker would, so a worker cannot
 * write over the cancel, and the sender gets the failure receipt (reason: canceled) when receipts.on_failed.
 */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a queued or placed fax (at Telnyx too)',
  help: `Usage: faxbridge cancel ID [--config FILE]

Cancels job ID. A queued job (not sent yet, or waiting for a retry) is canceled at once. A placed job (Telnyx
is dialling or transmitting) is canceled at Telnyx first, with the API key of the configuration; if Telnyx
refuses (the fax is already past sending) nothing changes. The sender gets a failure receipt saying the fax
was cancelled (receipts.on_failed). In sandbox mode the built-in simulator is not told.

Exit codes: 0 canceled, 1 no such job, already finished, busy (a worker holds it: try again in a moment), or
Telnyx refused or could not be reached, 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, CONFIG_OPTION, { min: 1, max: 1 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const id = parsed.positionals[0]!;
    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      const job = await store.getJob(id);
      if (!job) throw new ProblemError(`no job ${id}`);
      if (job.status !== 'queued' && job.status !== 'placed')
        throw new ProblemError(`job ${id} is already ${job.status}`);
      const owner = `cli-cancel-${randomBytes(6).toString('hex')}`;
      const leased = await store.leaseJob(id, owner, Date.now(), CANCEL_LEASE);
      if (!leased) throw new ProblemError(`job ${id} is being worked on right now; try again in a moment`);
      let transition: Transition | null = null;
      try {
        transition = await cancelTransition(config, store, leased, io);
      } finally {
        // An empty transition only releases the lease: the job goes on as before.
        await store.completeWork(id, owner, transition ?? {}, Date.now());
      }
      io.out(`Canceled ${id} ${leased.to_number}`);
      return EXIT.ok;
    });
  },
};

/** What canceling does to the job; throws (leaving the job as it was) when it cannot be canceled safely. */
async function cancelTransition(
  config: Config,
  store: JobStore,
  job: JobRow,
  io: CliIo,
): Promise<Transition> {
  const attempts = await store.listAttempts(job.id);
  const current = attempts.find((attempt) => attempt.attempt === job.attempt) ?? null;
  if (current?.state === 'posting') {
    // A request whose answer was lost: a fax may exist at Telnyx that we do not know the id of yet.
    throw new ProblemError(
      `job ${job.id}: the last request to Telnyx had no clear answer and is being checked; try again shortly`,
    );
  }
  const now = Date.now();
  const placed = job.status === 'placed' && current?.state === 'placed' && current.fax_id;
  if (placed) {
    if (config.sandbox)
      io.err('sandbox mode: the built-in simulator is not told; its events will be ignored');
    else await cancelAtTelnyx(config, current.fax_id!);
  }
  return {
    job: {
      status: 'canceled',
      run_at: null,
      finished_at: now,
      failure_reason: CANCELED_REASON,
      failure_detail: 'canceled by the operator (faxbridge cancel)',
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
    outbox: config.receipts.on_failed ? [{ kind: 'receipt_failed' }] : [],
  };
}

async function cancelAtTelnyx(config: Config, faxId: string): Promise<void> {
  const telnyx = makeTelnyxClient({
    apiUrl: config.telnyx.api_url,
    apiKey: config.telnyx.api_key ?? '',
    timeoutMs: config.telnyx.request_timeout,
  });
  try {
    const outcome = await telnyx.cancelFax(faxId);
    if (outcome.kind === 'rejected') {
      throw new ProblemError(
        `Telnyx refused to cancel fax ${faxId} (${outcome.status}: ${outcome.detail}); it may be finishing, see faxbridge job`,
      );
    }
    if (outcome.kind !== 'ok') throw new ProblemError(`Telnyx could not be reached: ${outcome.reason}`);
  } finally {
    await telnyx.close();
  }
}
