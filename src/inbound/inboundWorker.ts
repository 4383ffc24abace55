/**
 * Works received faxes from their rows: claims due `received` rows under a lease and downloads them. `wake`
 * after recording a fax starts its download without waiting for the next poll. Faxes whose webhook never
 * came are recorded by the missed-fax poll (`startMissedFaxPoll`) and then worked here like any other.
 */
import { randomBytes } from 'node:crypto';

import { Agent } from 'undici';

import { coerceError } from '../errors.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { TelnyxClient } from '../telnyx/client.js';
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

/** Long enough for a slow 60 MB download; a crashed worker's fax is retried after it. */
const LEASE_MS = 10 * MINUTE;
const BATCH = 4;
const CONNECT_TIMEOUT_MS = 10 * SECOND;

export function startInboundWorker(deps: InboundWorkerDeps): InboundWorker {
  const owner = `inbound-${randomBytes(6).toString('hex')}`;
  const pollMs = deps.pollMs ?? 2 * SECOND;
  const abort = new AbortController();
  // Media links are on S3 (Telnyx's, or the simulator in sandbox): one pool, closed on stop.
  const dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, keepAliveTimeout: 4 * SECOND });
  const work: ProcessDeps = { ...deps, dispatcher, signal: abort.signal };
  let stopped = false;
  const loopOptions = { everyMs: pollMs, name: 'inbound pass', log: deps.log };
  const loop = startPollingLoop(async () => {
    try {
      for (;;) {
        if (stopped) return;
        const rows = await deps.store.claimInboundFaxes(owner, deps.clock.now(), LEASE_MS, BATCH);
        if (rows.length === 0) return;
        await Promise.all(
          rows.map((row) =>
            processReceivedFax(work, row, owner).catch((error: unknown) =>
              deps.log.error({ err: coerceError(error), fax: row.fax_id }, 'inbound fax processing failed'),
            ),
          ),
        );
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
      await dispatcher.close();
    },
  };
}
