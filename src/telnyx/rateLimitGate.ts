import { calculateDelay } from '../lib/backoff.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { TelnyxClient, TelnyxOutcome } from './types.js';

/**
 * One 429 stops every caller of the client, not only the one that got it (docs/behaviour.md §4): with 16 workers
 * each backing off on its own, a burst becomes a storm of 429s, every worker probing the limit separately. Here
 * the first 429 closes the gate until its `Retry-After` / `x-ratelimit-reset` has passed; then exactly one call
 * goes out as a probe, and only when it is not refused again do the others follow.
 */
export interface RateLimitGate {
  /** Runs `call` once the gate lets it through, and learns from its answer. */
  run<T>(call: () => Promise<TelnyxOutcome<T>>, signal?: AbortSignal): Promise<TelnyxOutcome<T>>;
  /** Milliseconds until calls may go again (0 when open); for logs and tests. */
  closedForMs(): number;
}

/** A 429 that says nothing about how long: 1 s doubling to a minute, jittered, while they keep coming. */
const UNSAID_WAIT = { baseMs: 1 * SECOND, maxMs: 1 * MINUTE };
/**
 * The longest the gate stays shut on one 429, whatever the answer asks: it also holds back the inbound media
 * refresh and the reconciliation, and a wild header (days, or more than a timer can hold) must not stop the
 * instance. After it one probe goes, and a limit still in force closes the gate again.
 */
const MAX_CLOSED = 5 * MINUTE;

export function makeRateLimitGate(now: () => number = Date.now): RateLimitGate {
  /** Calls wait until this time. */
  let closedUntil = 0;
  /** A 429 was seen and no call has got through since: the next call after `closedUntil` is a probe. */
  let limited = false;
  let probing = false;
  /** 429s in a row, for the wait when Telnyx names none. */
  let strikes = 0;
  /** Bumped at each 429, so a probe that went out before a newer 429 does not reopen the gate. */
  let generation = 0;
  const waiters = new Set<() => void>();

  const wakeAll = (): void => {
    for (const wake of [...waiters]) wake();
  };

  /** Waits until the gate lets this call through; 'probe' when it is the one call testing the limit. */
  async function admit(signal: AbortSignal | undefined): Promise<'go' | 'probe' | 'aborted'> {
    for (;;) {
      const left = closedUntil - now();
      if (left <= 0 && !probing) {
        if (!limited) return 'go';
        probing = true;
        return 'probe';
      }
      // Only a call that would have to wait is given up at shutdown; an open gate lets it go as usual.
      if (signal?.aborted) return 'aborted';
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          forget(signal, done);
          resolve();
        };
        // While a probe is out, its answer wakes us; otherwise the end of the wait does.
        const timer = setTimeout(done, left > 0 ? left : 1 * MINUTE);
        remember(signal, done);
      });
    }
  }

  /*
   * Every worker passes the runner's one AbortSignal: one listener per signal wakes all its waiters, instead of
   * one listener per waiter (Node warns beyond 10 on one signal).
   */
  const bySignal = new Map<AbortSignal, Set<() => void>>();
  const onAbort = (signal: AbortSignal) => () => {
    for (const wake of [...(bySignal.get(signal) ?? [])]) wake();
  };
  const aborters = new Map<AbortSignal, () => void>();

  function remember(signal: AbortSignal | undefined, wake: () => void): void {
    waiters.add(wake);
    if (!signal) return;
    let set = bySignal.get(signal);
    if (!set) {
      set = new Set();
      bySignal.set(signal, set);
      const listener = onAbort(signal);
      aborters.set(signal, listener);
      signal.addEventListener('abort', listener, { once: true });
    }
    set.add(wake);
  }

  function forget(signal: AbortSignal | undefined, wake: () => void): void {
    waiters.delete(wake);
    const set = signal ? bySignal.get(signal) : undefined;
    if (!signal || !set) return;
    set.delete(wake);
    if (set.size === 0) {
      bySignal.delete(signal);
      signal.removeEventListener('abort', aborters.get(signal)!);
      aborters.delete(signal);
    }
  }

  function learn(outcome: TelnyxOutcome<unknown>, ticket: 'go' | 'probe', seen: number): void {
    if (outcome.kind === 'retry' && outcome.status === 429) {
      strikes += 1;
      generation += 1;
      limited = true;
      const wait = Math.min(outcome.retryAfterMs ?? calculateDelay(strikes, UNSAID_WAIT), MAX_CLOSED);
      closedUntil = Math.max(closedUntil, now() + wait);
    } else if (ticket === 'probe' && seen === generation) {
      // Answered without a 429 (whatever else it said): the limit has lifted.
      limited = false;
      strikes = 0;
    }
    if (ticket === 'probe') probing = false;
    wakeAll();
  }

  return {
    async run(call, signal) {
      const ticket = await admit(signal);
      if (ticket === 'aborted') {
        const reason = 'not sent: Telnyx asked us to wait (429) and the wait was cut short';
        return { kind: 'retry', status: null, retryAfterMs: null, reason };
      }
      const seen = generation;
      try {
        const outcome = await call();
        learn(outcome, ticket, seen);
        return outcome;
      } catch (error) {
        if (ticket === 'probe') {
          probing = false;
          wakeAll();
        }
        throw error;
      }
    },
    closedForMs: () => Math.max(0, closedUntil - now()),
  };
}

/** The client with every API call behind one shared gate (all workers of this instance). */
export function withRateLimitGate(
  client: TelnyxClient,
  gate: RateLimitGate = makeRateLimitGate(),
): TelnyxClient {
  return {
    sendFax: (req, signal) => gate.run(() => client.sendFax(req, signal), signal),
    listFaxes: (filter, signal) => gate.run(() => client.listFaxes(filter, signal), signal),
    getFax: (id, signal) => gate.run(() => client.getFax(id, signal), signal),
    refreshFaxMedia: (id, signal) => gate.run(() => client.refreshFaxMedia(id, signal), signal),
    cancelFax: (id, signal) => gate.run(() => client.cancelFax(id, signal), signal),
    close: () => client.close(),
  };
}
