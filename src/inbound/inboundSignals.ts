import type { Ctx } from '../context.js';
import type { RecordDeps } from './recordInbound.js';

/** The inbound code's callbacks, said on the daemon's event bus (wake-ups and counters listen there). */
export function inboundSignals(
  ctx: Pick<Ctx, 'events'>,
): Pick<RecordDeps, 'counters' | 'onRecorded' | 'onQueued'> {
  const { events } = ctx;
  return {
    counters: {
      received: () => events.emit('inboundReceived', undefined),
      unrouted: () => events.emit('inboundUnrouted', undefined),
    },
    onRecorded: () => events.emit('inboundRecorded', undefined),
    onQueued: () => events.emit('outboxWritten', undefined),
  };
}
