import type { Ctx } from '../context.js';
import { makeInboundMailComposer } from '../inbound/composeInboundMail.js';
import type { Stoppable } from '../lib/stopStack.js';
import { startOutboxLoop } from './outboxWorker.js';

/**
 * The outbox worker: sends every mail the database holds (receipts, received faxes, admin notices). Woken by
 * whatever writes outbox rows; otherwise it polls.
 */
export function startOutbox(ctx: Ctx): Stoppable {
  const { events } = ctx;
  const backoffMs = ctx.tuning.outboxBackoffMs;
  const outbox = startOutboxLoop(
    {
      config: ctx.config,
      store: ctx.store,
      documents: ctx.documents,
      mailer: ctx.mailer,
      signer: ctx.signer,
      clock: ctx.clock,
      log: ctx.log.child({ component: 'outbox' }),
      onSent: (row) => events.emit('mailSent', { row }),
      // Received-fax mails are composed by inbound/, which knows the routing; mail/ only sends them.
      composeOther: makeInboundMailComposer(ctx),
      backoff: backoffMs === undefined ? undefined : { baseMs: backoffMs, maxMs: 4 * backoffMs },
      leaseMs: ctx.tuning.leaseMs,
    },
    ctx.tuning.pollMs,
  );
  const unsubscribe = [
    events.on('messageQueued', () => outbox.wake()),
    events.on('eventDecided', () => outbox.wake()),
    events.on('outboxWritten', () => outbox.wake()),
  ];
  return {
    async stop(stopping) {
      for (const off of unsubscribe) off();
      // A mail half-sent when time is up is sent again after the restart, with the same Message-ID.
      await Promise.race([
        outbox.stop(),
        new Promise((resolve) => setTimeout(resolve, stopping.left()).unref()),
      ]);
    },
  };
}
