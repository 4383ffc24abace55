import type { Ctx } from '../context.js';
import { makeInboundEventHandler } from '../inbound/handleInboundEvent.js';
import { inboundSignals } from '../inbound/inboundSignals.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import type { Stoppable } from '../lib/stopStack.js';
import { SECOND } from '../lib/units.js';
import { eventRow } from './eventRow.js';
import { type EventDeps, processEvent, processPendingEvents } from './processEvents.js';

/**
 * How often recorded events nobody acted on are looked for: a crash between the webhook's 200 and the work,
 * an event recorded before this component started, or one whose processing failed.
 */
const SWEEP_EVERY = 5 * SECOND;

/**
 * Acts on each webhook event as soon as it is recorded, and sweeps for the ones left behind (at start too:
 * events recorded before a crash). Outcomes are said on the event bus, where the runner and the outbox wake.
 */
export function startEventProcessing(ctx: Ctx): Stoppable {
  const { config, store, clock, events } = ctx;
  const log = ctx.log.child({ component: 'events' });
  const deps: EventDeps = {
    config,
    store,
    clock,
    log,
    // Inbound events become inbound-fax rows, decided by inbound's rules inside the event's transaction.
    onInbound: makeInboundEventHandler({
      config,
      store,
      clock,
      log: ctx.log.child({ component: 'inbound' }),
      ...inboundSignals(ctx),
    }),
    onOutcome: (outcome, event) => events.emit('eventDecided', { outcome, event }),
  };

  const inFlight = new Set<Promise<unknown>>();
  const unsubscribe = events.on('eventRecorded', ({ event }) => {
    // The row as just recorded, and the payload the route parsed; the store re-checks `processed_at` inside
    // its transaction.
    const row = { ...eventRow(event, clock.now()), processed_at: null, outcome: null };
    const work = processEvent(deps, row, event.payload)
      .catch((error: unknown) =>
        log.error({ err: error, event: event.id }, 'event processing failed; the sweep retries it'),
      )
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  const sweep = startPollingLoop(
    async () => {
      await processPendingEvents(deps);
    },
    { everyMs: ctx.tuning.eventSweepMs ?? SWEEP_EVERY, name: 'event sweep', log },
  );

  return {
    async stop() {
      unsubscribe();
      await sweep.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
