import { findQuotaBreach, type QuotaBreach, type SenderLimits } from '../domain/senderQuota.js';
import type { Clock } from '../lib/clock.js';
import { DAY, HOUR, MINUTE } from '../lib/units.js';
import type { JobStore } from '../store/jobStore.js';

/**
 * Rate limits at the SMTP edge: new connections per client address in a sliding minute, and the
 * per-sender fax and page limits counted from the job store. Each limiter keeps its state in the closure it
 * returns, one per listener.
 */
export interface ConnectionRateLimiter {
  /** Records a connection from `address`; false when it is one more than allowed in the last minute. */
  allow(address: string): boolean;
  /** How many client addresses it holds state for (what a spoofed-address flood would grow). */
  trackedAddresses(): number;
}

/** Above this many tracked addresses, a call prunes every expired one (bounded memory under a spoofed flood). */
const PRUNE_ABOVE = 10_000;

export function makeConnectionRateLimiter(perMinute: number, clock: Clock): ConnectionRateLimiter {
  const seen = new Map<string, number[]>();
  const prune = (times: number[], now: number): number[] => {
    const from = times.findIndex((time) => time > now - MINUTE);
    return from < 0 ? [] : from === 0 ? times : times.slice(from);
  };
  return {
    allow(address) {
      if (perMinute <= 0) return true;
      const now = clock.now();
      if (seen.size > PRUNE_ABOVE) {
        for (const [key, times] of seen) {
          const kept = prune(times, now);
          if (kept.length === 0) seen.delete(key);
          else seen.set(key, kept);
        }
      }
      const times = prune(seen.get(address) ?? [], now);
      // Refused attempts count too: a client hammering the port must wait for the window to pass.
      times.push(now);
      // Never more than one window's worth is kept per address.
      seen.set(address, times.length > perMinute + 1 ? times.slice(-perMinute - 1) : times);
      return times.length <= perMinute;
    },
    trackedAddresses: () => seen.size,
  };
}

export interface SenderQuota {
  /** The limit `adding` would break for `sender`, or null (also when no limit is set). */
  check(sender: string, adding: { faxes: number; pages: number }): Promise<QuotaBreach | null>;
}

export function makeSenderQuota(deps: { store: JobStore; clock: Clock; limits: SenderLimits }): SenderQuota {
  const { store, clock, limits } = deps;
  const none = { faxes: 0, pages: 0 };
  return {
    async check(sender, adding) {
      const wantHour = limits.faxes_per_hour > 0 && adding.faxes > 0;
      const wantDay = limits.pages_per_day > 0 && adding.pages > 0;
      if (!wantHour && !wantDay) return null;
      const now = clock.now();
      const [hour, day] = await Promise.all([
        wantHour ? store.countSenderUsage(sender, now - HOUR) : none,
        wantDay ? store.countSenderUsage(sender, now - DAY) : none,
      ]);
      return findQuotaBreach(limits, { hour, day }, adding);
    },
  };
}
