/**
 * Works received faxes from their rows: claims due `received` rows under a lease and downloads them. `wake`
 * after recording a fax starts its download without waiting for the next poll. Faxes whose webhook never
 * came are recorded by the missed-fax poll (`startMissedFaxPoll`) and then worked here like any other.
 */
import { randomBytes } from 'node:crypto';

import { coerceError } from '../errors.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import { Agent } from '../lib/undiciCore.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { TelnyxClient } from '../telnyx/client.js';
import { makeMediaConnector } from './mediaConnector.js';
import { type ProcessDeps, processReceivedFax } from './processReceivedFax.js';

export interface InboundWorkerDeps extends Omit<ProcessDeps, 'dispatcher' | 'signal' | 'telnyx'> {
  telnyx: Pick<TelnyxClient, 'refreshFaxMedia' | 'getFax' | 'listFaxes'>;
  /** How often due rows are looked for without a wake (default 2 s). */
  pollMs?: number;
}

export interface InboundWorker {
  wake(): void;
  stop(): Promise<void>;
}

/** Longer than a fetch's deadline (processReceivedFax); a crashed worker's fax is retried after it. */
const LEASE_MS = 10 * MINUTE;
/**
 * Faxes fetched at once. Each slot is independent: a new fax starts as soon as any slot frees, so one slow
 * media server holds one slot, not the faxes behind it.
 */
const SLOTS = 4;
const CONNECT_TIMEOUT_MS = 10 * SECOND;

export function startInboundWorker(deps: InboundWorkerDeps): InboundWorker {
  const owner = `inbound-${randomBytes(6).toString('hex')}`;
  const pollMs = deps.pollMs ?? 2 * SECOND;
  const abort = new AbortController();
  // Media links are on S3 (Telnyx's, or the simulator in sandbox): one pool, closed on stop. Its connector
  // refuses addresses a media link must not lead to.
  const connect = makeMediaConnector(
    { sandbox: deps.config.sandbox, allowedNetworks: deps.config.telnyx.inbound_media_networks },
    { timeoutMs: CONNECT_TIMEOUT_MS },
  );
  const dispatcher = new Agent({ connect, keepAliveTimeout: 4 * SECOND });
  const work: ProcessDeps = { ...deps, dispatcher, signal: abort.signal };
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const loopOptions = { everyMs: pollMs, name: 'inbound pass', log: deps.log };
  const loop = startPollingLoop(async () => {
    try {
      while (!stopped && inFlight.size < SLOTS) {
        const rows = await deps.store.claimInboundFaxes(
          owner,
          deps.clock.now(),
          LEASE_MS,
          SLOTS - inFlight.size,
        );
        if (rows.length === 0) return;
        for (const row of rows) {
          const task: Promise<void> = processReceivedFax(work, row, owner)
            .catch((error: unknown) =>
              deps.log.error({ err: coerceError(error), fax: row.fax_id }, 'inbound fax processing failed'),
            )
            .finally(() => {
              inFlight.delete(task);
              // A slot is free: claim the next due fax now rather than at the next poll.
              loop.wake();
            });
          inFlight.add(task);
        }
      }
    } catch (error) {
      deps.log.error({ err: coerceError(error) }, 'inbound pass failed');
    }
  }, loopOptions);

  return {
    wake: () => loop.wake(),
    async stop() {
      stopped = true;
      // Downloads in flight are cut short; their rows are handed back due now, for the next start.
      abort.abort();
      await loop.stop();
      await Promise.all(inFlight);
      await dispatcher.close();
    },
  };
}
