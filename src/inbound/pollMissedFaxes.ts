/**
 * Webhooks get lost (our outage, a proxy, Telnyx giving up). Every few minutes faxbridge lists the inbound
 * faxes of the last 24 hours (`GET /faxes?filter[direction][eq]=inbound`, docs/behaviour.md §7) and records
 * any received or failed fax it has no row for; from there it goes the same way as a webhook.
 */
import type { Ctx } from '../context.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import type { Stoppable } from '../lib/stopStack.js';
import { DAY, MINUTE } from '../lib/units.js';
import type { TelnyxClient } from '../telnyx/client.js';
import { inboundSignals } from './inboundSignals.js';
import { inboundFromFax, type RecordDeps, recordInbound } from './recordInbound.js';

export interface PollDeps extends RecordDeps {
  telnyx: Pick<TelnyxClient, 'listFaxes'>;
  signal?: AbortSignal;
}

/** Returns how many faxes were found that no webhook had told us about. */
export async function pollMissedFaxes(deps: PollDeps, windowMs = DAY): Promise<number> {
  const { store, clock, log, telnyx } = deps;
  const listed = await telnyx.listFaxes(
    { direction: 'inbound', createdAfter: new Date(clock.now() - windowMs) },
    deps.signal,
  );
  if (listed.kind !== 'ok') {
    log.warn(
      { outcome: listed.kind, reason: 'reason' in listed ? listed.reason : listed.detail },
      'missed-fax poll: cannot list faxes',
    );
    return 0;
  }
  // One odd entry must not stall the poll for every other fax: it is skipped and named in the log.
  for (const entry of listed.value.unreadable) {
    log.warn({ fax: entry.id, entry: entry.snippet }, 'missed-fax poll: skipped a list entry it cannot read');
  }
  let found = 0;
  for (const listedFax of listed.value.faxes) {
    const fax = inboundFromFax(listedFax, clock.now());
    // Known faxes are skipped without a write transaction: this runs every few minutes over a day of faxes.
    if (!fax || (await store.getInboundFax(fax.fax_id))) continue;
    if ((await recordInbound(deps, fax, null)) === 'recorded') {
      found++;
      log.warn({ fax: fax.fax_id, status: fax.status }, 'found an inbound fax whose webhook never arrived');
    }
  }
  return found;
}

/** How often Telnyx is asked for missed faxes when not told otherwise: "every few minutes". */
const MISSED_FAX_POLL = 5 * MINUTE;

/**
 * Polls at start (faxes that arrived while the daemon was down are found at once) and then every few
 * minutes. `stop` cuts a list request in flight short; the next start polls again.
 */
export function startMissedFaxPoll(ctx: Ctx): Stoppable {
  const log = ctx.log.child({ component: 'inbound' });
  const abort = new AbortController();
  const deps: PollDeps = {
    config: ctx.config,
    store: ctx.store,
    clock: ctx.clock,
    log,
    telnyx: ctx.telnyx,
    ...inboundSignals(ctx),
    signal: abort.signal,
  };
  const everyMs = ctx.tuning.missedFaxPollMs ?? MISSED_FAX_POLL;
  const loop = startPollingLoop(
    async () => {
      await pollMissedFaxes(deps);
    },
    { everyMs, name: 'missed-fax poll', log },
  );
  return {
    async stop() {
      abort.abort();
      await loop.stop();
    },
  };
}
