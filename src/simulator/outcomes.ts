import { findMagicNumber } from './magicNumbers.js';

/** How an outbound fax ends once its media was fetched and it started sending. */
export type PlannedOutcome =
  { kind: 'deliver' } | { kind: 'fail'; failureReason: string } | { kind: 'partial' } | { kind: 'stuck' };

export interface OutcomePlanner {
  /**
   * A list makes the next sends to `to` fail with these reasons in turn, then deliver again; a single string
   * makes every send to `to` fail with it. Replaces any earlier setting for that number.
   */
  failNumber(to: string, failureReasons: string[] | string): void;
  /** Decides the outcome of a send to `to` when it is created, so that order follows the order of sends. */
  plan(to: string): PlannedOutcome;
}

export function makeOutcomePlanner(): OutcomePlanner {
  const scripted = new Map<string, { queue: string[] } | { always: string }>();
  const sendsPerNumber = new Map<string, number>();

  return {
    failNumber(to, failureReasons) {
      scripted.set(
        to,
        typeof failureReasons === 'string' ? { always: failureReasons } : { queue: [...failureReasons] },
      );
    },
    plan(to) {
      const sendsBefore = sendsPerNumber.get(to) ?? 0;
      sendsPerNumber.set(to, sendsBefore + 1);

      const script = scripted.get(to);
      if (script && 'always' in script) return { kind: 'fail', failureReason: script.always };
      if (script) {
        const next = script.queue.shift();
        if (script.queue.length === 0) scripted.delete(to);
        if (next !== undefined) return { kind: 'fail', failureReason: next };
      }

      const magic = findMagicNumber(to)?.outcome;
      if (!magic) return { kind: 'deliver' };
      if (magic.kind === 'failFirst') {
        return sendsBefore < magic.times
          ? { kind: 'fail', failureReason: magic.failureReason }
          : { kind: 'deliver' };
      }
      return magic;
    },
  };
}
