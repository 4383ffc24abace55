import { performance } from 'node:perf_hooks';

import type { Ctx } from '../context.js';
import { SECOND } from '../lib/units.js';

/**
 * The longest a due fax waits because mail is being received: a burst of messages gets the machine first, and
 * sending starts at the latest this long after a job became due however long the burst lasts
 * (docs/behaviour.md §4 "Mail first").
 */
export const INTAKE_HOLD = 10 * SECOND;

/** Mail counts as being received when a message began or ended its DATA this recently. */
export const INTAKE_QUIET_AFTER = 250;

export interface IntakeWatch {
  /** How far back `run_at` must lie for a job to be claimed now: INTAKE_HOLD while mail arrives, else 0. */
  holdBack(): number;
  /** True while mail is being received. */
  busy(): boolean;
  stop(): void;
}

/**
 * Watches SMTP intake through the daemon's events and calls `onQuiet` once it has been quiet for
 * INTAKE_QUIET_AFTER, so held jobs are claimed at once rather than at the next poll.
 *
 * Why hold back at all: every message's checks (MIME, the PDF in the document sandbox, the durable write)
 * compete for the same two cores as the faxes already accepted (their transmitted PDFs, webhooks, receipts with
 * a preview). A sender waits for the 250 with a timeout, a fax in the queue does not; so while mail arrives the
 * runner starts no new work, up to INTAKE_HOLD. Activity is judged by DATA starting and ending, not by DATA in
 * progress: a client trickling one message for minutes costs no CPU and must not hold sending back.
 * Measured in bench/README.md ("Mail first").
 */
export function watchIntake(
  events: Ctx['events'],
  onQuiet: () => void,
  { holdMs = INTAKE_HOLD, quietMs = INTAKE_QUIET_AFTER }: Ctx['tuning']['intakeHold'] = {},
): IntakeWatch {
  // Real time, not ctx.clock: this is about the CPU being shared now; a test's fixed clock must not hold forever.
  let lastActivity = Number.NEGATIVE_INFINITY;
  let quietTimer: NodeJS.Timeout | undefined;
  const sinceActivity = (): number => performance.now() - lastActivity;
  const busy = (): boolean => sinceActivity() < quietMs;

  const checkQuiet = (): void => {
    quietTimer = undefined;
    const left = quietMs - sinceActivity();
    if (left > 0) quietTimer = setTimeout(checkQuiet, left).unref();
    else onQuiet();
  };
  const noteActivity = (): void => {
    lastActivity = performance.now();
    quietTimer ??= setTimeout(checkQuiet, quietMs).unref();
  };
  const unsubscribe = events.on('mailArriving', noteActivity);
  return {
    holdBack: () => (busy() ? holdMs : 0),
    busy,
    stop() {
      unsubscribe();
      clearTimeout(quietTimer);
    },
  };
}
