import type { Clock } from '../lib/clock.js';
import { MINUTE } from '../lib/units.js';

/**
 * Limits on password guessing over SMTP AUTH. The one-second pause after a wrong password slows a single
 * connection only; an attacker opening twenty connections still tried hundreds of passwords a minute. So:
 * - a connection is closed after `perConnection` wrong passwords;
 * - `maxFailures` wrong passwords for one account, or from one client address, within `windowMs` lock that
 *   account or address for `lockMs`: every AUTH is refused unchecked, the right password included, so a
 *   guesser learns nothing more and the scrypt work stops too.
 * State lives in this closure (one per listener), pruned when it grows, so a flood of spoofed names stays bounded.
 */
export interface AuthThrottleLimits {
  perConnection: number;
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_AUTH_LIMITS: AuthThrottleLimits = {
  perConnection: 3,
  maxFailures: 10,
  windowMs: 15 * MINUTE,
  lockMs: 15 * MINUTE,
};

export interface AuthLock {
  what: 'account' | 'address';
  /** Clock time the lock ends, and how long that is from now. */
  until: number;
  remainingMs: number;
}

export interface AuthThrottle {
  /** The lock on this account or address now, or null. `account` is the name as typed (any case). */
  lockOf(account: string, address: string): AuthLock | null;
  /** Records a wrong password; says whether the connection has had its share and whether a lock began. */
  recordFailure(
    sessionId: string,
    account: string,
    address: string,
  ): { closeConnection: boolean; locked: AuthLock | null };
  /** The connection ended: its count is no longer needed. */
  forgetSession(sessionId: string): void;
}

/** Above this many tracked accounts or addresses, a failure prunes every expired entry. */
const PRUNE_ABOVE = 10_000;

interface FailureRecord {
  failures: number[];
  lockedUntil: number;
}

export function makeAuthThrottle(
  clock: Clock,
  limits: AuthThrottleLimits = DEFAULT_AUTH_LIMITS,
): AuthThrottle {
  const byKey = new Map<string, FailureRecord>();
  const perSession = new Map<string, number>();
  const accountKey = (account: string) => (account.trim() ? `account:${account.trim().toLowerCase()}` : null);
  const addressKey = (address: string) => `address:${address}`;

  const recent = (record: FailureRecord, now: number) =>
    record.failures.filter((at) => at > now - limits.windowMs);
  const prune = (now: number) => {
    for (const [key, record] of byKey) {
      record.failures = recent(record, now);
      if (record.failures.length === 0 && record.lockedUntil <= now) byKey.delete(key);
    }
  };
  const lockOfKey = (key: string | null, now: number) => {
    const until = key ? (byKey.get(key)?.lockedUntil ?? 0) : 0;
    return until > now ? until : 0;
  };
  /** Counts one failure for `key`; the end of a lock that this failure began, else 0. */
  const fail = (key: string, now: number): number => {
    const record = byKey.get(key) ?? { failures: [], lockedUntil: 0 };
    record.failures = [...recent(record, now), now];
    byKey.set(key, record);
    if (record.lockedUntil > now || record.failures.length < limits.maxFailures) return 0;
    record.failures = [];
    record.lockedUntil = now + limits.lockMs;
    return record.lockedUntil;
  };

  return {
    lockOf(account, address) {
      const now = clock.now();
      const accountUntil = lockOfKey(accountKey(account), now);
      if (accountUntil) return { what: 'account', until: accountUntil, remainingMs: accountUntil - now };
      const addressUntil = lockOfKey(addressKey(address), now);
      return addressUntil ? { what: 'address', until: addressUntil, remainingMs: addressUntil - now } : null;
    },
    recordFailure(sessionId, account, address) {
      const now = clock.now();
      if (byKey.size > PRUNE_ABOVE) prune(now);
      const onConnection = (perSession.get(sessionId) ?? 0) + 1;
      perSession.set(sessionId, onConnection);
      const key = accountKey(account);
      const accountUntil = key ? fail(key, now) : 0;
      const addressUntil = fail(addressKey(address), now);
      const locked: AuthLock | null = accountUntil
        ? { what: 'account', until: accountUntil, remainingMs: limits.lockMs }
        : addressUntil
          ? { what: 'address', until: addressUntil, remainingMs: limits.lockMs }
          : null;
      return { closeConnection: onConnection >= limits.perConnection, locked };
    },
    forgetSession: (sessionId) => void perSession.delete(sessionId),
  };
}
