import { MINUTE } from '../lib/units.js';

/*
 * Failed console sign-ins, counted per account and per client address: after MAX_FAILURES within WINDOW_MS
 * either one is locked for LOCK_MS, and while locked even the right password is refused, so guessing costs
 * an attacker the lock period for every five tries. In memory: a restart forgives, which is acceptable for a
 * console kept off the public internet.
 */
export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * MINUTE;
export const LOCK_MS = 15 * MINUTE;
/** Keys tracked at most, so a spray of addresses cannot grow memory without bound. */
const MAX_KEYS = 50_000;

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export interface SignInThrottle {
  /** When the first locked key unlocks, or null when none of the keys is locked. */
  lockedUntil(keys: readonly string[], now: number): number | null;
  recordFailure(keys: readonly string[], now: number): void;
  /** A good sign-in forgives the account's earlier failures (the address keeps its count). */
  forgive(key: string): void;
}

export function makeSignInThrottle(): SignInThrottle {
  const entries = new Map<string, Entry>();

  return {
    lockedUntil(keys, now) {
      let until: number | null = null;
      for (const key of keys) {
        const entry = entries.get(key);
        if (entry && entry.lockedUntil > now) until = Math.max(until ?? 0, entry.lockedUntil);
      }
      return until;
    },

    recordFailure(keys, now) {
      for (const key of keys) {
        const entry = entries.get(key) ?? { failures: [], lockedUntil: 0 };
        entry.failures = entry.failures.filter((at) => at > now - WINDOW_MS);
        entry.failures.push(now);
        if (entry.failures.length >= MAX_FAILURES) {
          entry.lockedUntil = now + LOCK_MS;
          entry.failures = [];
        }
        entries.delete(key);
        entries.set(key, entry);
      }
      while (entries.size > MAX_KEYS) entries.delete(entries.keys().next().value!);
    },

    forgive(key) {
      const entry = entries.get(key);
      if (entry && entry.lockedUntil === 0) entries.delete(key);
    },
  };
}
