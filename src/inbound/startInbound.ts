import type { Ctx } from '../context.js';
import type { Stoppable } from '../lib/stopStack.js';
import { inboundSignals } from './inboundSignals.js';
import { startInboundWorker } from './inboundWorker.js';

/** The inbound worker: downloads received faxes from their rows; woken as soon as one is recorded. */
export function startInbound(ctx: Ctx): Stoppable {
  const worker = startInboundWorker({
    config: ctx.config,
    store: ctx.store,
    documents: ctx.documents,
    telnyx: ctx.telnyx,
    clock: ctx.clock,
    log: ctx.log.child({ component: 'inbound' }),
    ...inboundSignals(ctx),
    pollMs: ctx.tuning.pollMs,
    fetchDeadlineMs: ctx.tuning.inboundFetchDeadlineMs,
  });
  const unsubscribe = ctx.events.on('inboundRecorded', () => worker.wake());
  return {
    async stop() {
      unsubscribe();
      await worker.stop();
    },
  };
}
