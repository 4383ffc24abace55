/**
 * Works received faxes from their rows: claims due `received` rows under a lease and downloads them, and
 * every few minutes polls Telnyx for faxes whose webhook never came. `wake` after recording a fax starts its
 * download without waiting for the next poll.
 */
import { randomBytes } from 'node:crypto';

import { Agent } from 'undici';

import { coerceError } from '../errors.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { TelnyxClient } from '../telnyx/client.js';
import { pollMissedFaxes } from './pollMissedFaxes.js';
import { type ProcessDeps, processReceivedFax } from './processReceivedFax.js';

export interface InboundWorkerDeps extends Omit<ProcessDeps, 'dispatcher' | 'signal' | 'telnyx'> {
  telnyx: Pick<TelnyxClient, 'refreshFaxMedia' | 'getFax' | 'listFaxes'>;
  /** How often due rows are looked for without a wake (default 2 s). */
  pollMs?: number;
  /** How often Telnyx is asked for missed faxes (default 5 min; product.md §7 "every few minutes"). */
  missedPollMs?: number;
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
  const missedPollMs = deps.missedPollMs ?? 5 * MINUTE;
  const abort = new AbortController();
  // Media links are on S3 (Telnyx's, or the simulator in sandbox): one pool, closed on stop.
  const dispatcher = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, keepAliveTimeout: 4 * SECOND });
  const work: ProcessDeps = { ...deps, dispatcher, signal: abort.signal };
  let stopped = false;
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
  }, pollMs);

  let polling: Promise<unknown> | null = null;
  const pollMissed = () => {
    if (stopped || polling) return;
    polling = pollMissedFaxes({ ...deps, signal: abort.signal, onRecorded: () => loop.wake() })
      .catch((error: unknown) => deps.log.warn({ err: coerceError(error) }, 'missed-fax poll failed'))
      .finally(() => (polling = null));
  };
  const missedTimer = setInterval(pollMissed, missedPollMs);
  // Right away too: faxes that arrived while the daemon was down are found at start.
  pollMissed();

  return {
    wake: () => loop.wake(),
    async stop() {
      stopped = true;
      clearInterval(missedTimer);
      // Downloads in flight are cut short; their rows are handed back due now, for the next start.
      abort.abort();
      await loop.stop();
      await polling;
      await dispatcher.close();
    },
  };
}
