import type { Ctx } from '../context.js';
import { makeRankedSlots } from '../lib/rankedSlots.js';
import type { Stoppable } from '../lib/stopStack.js';
import { watchIntake } from './intakeFirst.js';
import { startJobRunner } from './runner.js';
import { workJob } from './sendFax.js';

/**
 * Jobs worked beyond `telnyx.concurrency`: their transmitted PDFs (header line, cover page) are built while the
 * others' calls to Telnyx are in flight, so a slot freed by an answer goes at once to a fax that is ready instead
 * of waiting for a build in the document sandbox's background lane (2 niced children). Twice that lane: one
 * build running and one ready per child.
 */
export const BUILT_AHEAD = 4;

/**
 * The fax job runner: claims due jobs and places their faxes. It looks for work at once when a message was
 * queued or a webhook event was decided (a retry may now be due), and otherwise every poll.
 */
export function startJobs(ctx: Ctx): Stoppable {
  const { events } = ctx;
  const handoffSlots = makeRankedSlots(ctx.config.telnyx.concurrency);
  // Mail first: while messages arrive, jobs due less than INTAKE_HOLD ago wait; the quiet after wakes the runner.
  const intake = watchIntake(events, () => runner.wake(), ctx.tuning.intakeHold);
  const runner = startJobRunner({
    store: ctx.store,
    clock: ctx.clock,
    log: ctx.log.child({ component: 'worker' }),
    pollMs: ctx.tuning.pollMs,
    leaseMs: ctx.tuning.leaseMs,
    holdBack: intake.holdBack,
    // `telnyx.concurrency` faxes are handed to Telnyx at once (handoffSlots, sendFax.ts), a few more are being
    // built meanwhile; a 429 pauses all the calls together (telnyx/rateLimitGate.ts).
    concurrency: ctx.config.telnyx.concurrency + BUILT_AHEAD,
    work: async (job, owner, jobLog, signal) => {
      const transition = await workJob({ ...ctx, handoffSlots }, job, owner, jobLog, signal);
      events.emit('jobWorked', { job, transition });
      // The runner commits the transition (and its outbox rows) after this returns.
      if (transition?.outbox?.length) setImmediate(() => events.emit('outboxWritten', undefined));
      return transition;
    },
  });
  const unsubscribe = [
    // While mail arrives a new job is held anyway; its claim is left to the quiet that follows.
    events.on('messageQueued', () => {
      if (!intake.busy()) runner.wake();
    }),
    events.on('eventDecided', () => runner.wake()),
  ];
  return {
    async stop(stopping) {
      for (const off of unsubscribe) off();
      intake.stop();
      // Jobs in flight get what is left of the grace, then are aborted (their leases run out for a retry).
      await runner.stop(stopping.left());
    },
  };
}
