/**
 * Destination numbers that make the simulator misbehave on purpose, so that a sandbox user (docs/behaviour.md
 * §1) and the test suites can try every outbound path. They sit in the +1 555-555-01xx block, which the North
 * American Numbering Plan reserves for fiction, so no real fax machine is ever dialled by mistake.
 * Every other destination is delivered.
 */
export type MagicOutcome =
  /** Fail every send with this `failure_reason` after `fax.sending.started`. */
  | { kind: 'fail'; failureReason: string }
  /** Fail the first `times` sends to the number, then deliver (shows the retry path). */
  | { kind: 'failFirst'; failureReason: string; times: number }
  /** Deliver only half the pages (rounded down, at least 1): `delivered N of M pages` in receipts. */
  | { kind: 'partial' }
  /** Stop after `fax.sending.started` and never send a final event (exercises final_event_timeout). */
  | { kind: 'stuck' };

export interface MagicNumber {
  number: string;
  description: string;
  outcome: MagicOutcome;
}

export const MAGIC_NUMBERS: readonly MagicNumber[] = [
  { number: '+15555550101', description: 'busy', outcome: { kind: 'fail', failureReason: 'user_busy' } },
  {
    number: '+15555550102',
    description: 'no answer',
    outcome: { kind: 'fail', failureReason: 'receiver_no_answer' },
  },
  {
    number: '+15555550103',
    description: 'unallocated number (final)',
    outcome: { kind: 'fail', failureReason: 'receiver_unallocated_number' },
  },
  {
    number: '+15555550104',
    description: 'call dropped',
    outcome: { kind: 'fail', failureReason: 'receiver_call_dropped' },
  },
  {
    number: '+15555550105',
    description: 'rejected (final)',
    outcome: { kind: 'fail', failureReason: 'rejected' },
  },
  {
    number: '+15555550106',
    description: 'destination not in service plan (final)',
    outcome: { kind: 'fail', failureReason: 'destination_not_in_service_plan' },
  },
  {
    number: '+15555550107',
    description: 'no fax tone (initial communication timeout)',
    outcome: { kind: 'fail', failureReason: 'fax_initial_communication_timeout' },
  },
  {
    number: '+15555550108',
    description: 'channel limit exceeded',
    outcome: { kind: 'fail', failureReason: 'user_channel_limit_exceeded' },
  },
  { number: '+15555550109', description: 'delivers only half the pages', outcome: { kind: 'partial' } },
  { number: '+15555550110', description: 'never reports a final event', outcome: { kind: 'stuck' } },
  {
    number: '+15555550111',
    description: 'busy on the first send, delivered after',
    outcome: { kind: 'failFirst', failureReason: 'user_busy', times: 1 },
  },
];

export function findMagicNumber(to: string): MagicNumber | undefined {
  return MAGIC_NUMBERS.find((entry) => entry.number === to);
}

/** One line per number, for the sandbox banner and `--help` texts. */
export function describeMagicNumbers(): string[] {
  return MAGIC_NUMBERS.map((entry) => `${entry.number}  ${entry.description}`);
}
