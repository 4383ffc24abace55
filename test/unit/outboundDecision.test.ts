import { describe, expect, it } from 'vitest';

import {
  decideOutbound,
  type FaxObservation,
  type OutboundDecision,
  type OutboundPolicy,
  statusOfEvent,
} from '../../src/domain/outboundDecision.js';
import type { AttemptRow, JobRow } from '../../src/store/jobStore.js';

const NOW = 1_790_000_000_000;
const MINUTE = 60_000;

const POLICY: OutboundPolicy = {
  retryDelays: { busy: 3 * MINUTE, no_answer: 5 * MINUTE, dropped: 2 * MINUTE, channel_limit: 1 * MINUTE },
  finalEventTimeout: 15 * MINUTE,
  receiptOnDelivered: true,
  receiptOnFailed: true,
};

function job(overrides: Partial<JobRow> = {}): JobRow {
  return {
    id: 'job1',
    message_row_id: 'msg1',
    to_number: '+15551234567',
    from_number: '+15550000000',
    sender: 'alice@example.com',
    status: 'placed',
    attempt: 1,
    max_attempts: 3,
    run_at: NOW + 15 * MINUTE,
    lease_owner: null,
    lease_until: null,
    api_error_since: null,
    api_errors: 0,
    last_error: null,
    failure_reason: null,
    failure_detail: null,
    pages_sent: null,
    duration_secs: null,
    created_at: NOW - MINUTE,
    updated_at: NOW - MINUTE,
    finished_at: null,
    ...overrides,
  };
}

function attempt(overrides: Partial<AttemptRow> = {}): AttemptRow {
  return {
    job_id: 'job1',
    attempt: 1,
    state: 'placed',
    client_state: 'am9iMToxCg==',
    fax_id: 'fax-1',
    fax_status: 'queued',
    started_at: NOW - MINUTE,
    placed_at: NOW - MINUTE,
    last_event_at: null,
    ended_at: null,
    failure_reason: null,
    pages: null,
    duration_secs: null,
    ...overrides,
  };
}

const seen = (status: string, extra: Partial<FaxObservation> = {}): FaxObservation => ({
  faxId: 'fax-1',
  status,
  ...extra,
});

const decide = (
  j: JobRow | null,
  a: AttemptRow | null,
  o: FaxObservation,
  policy: OutboundPolicy = POLICY,
): OutboundDecision => decideOutbound(j, a, o, policy, NOW);

describe('statusOfEvent', () => {
  it.each([
    ['fax.queued', 'queued'],
    ['fax.media.processed', 'media.processed'],
    ['fax.originated', 'originated'],
    ['fax.sending.started', 'sending'],
    ['fax.delivered', 'delivered'],
    ['fax.failed', 'failed'],
    ['fax.received', null],
    ['fax.email.delivered', null],
    ['call.hangup', null],
  ])('%s → %s', (eventType, status) => {
    expect(statusOfEvent(eventType)).toBe(status);
  });
});

describe('decideOutbound: progress and ordering', () => {
  it.each([
    ['queued', 'media.processed'],
    ['queued', 'sending'],
    ['media.processed', 'originated'],
    ['originated', 'sending'],
  ])('from %s, seeing %s moves forward and keeps waiting for a final event', (from, to) => {
    const decision = decide(job(), attempt({ fax_status: from }), seen(to));
    expect(decision.outcome).toBe('progress');
    expect(decision.transition).toEqual({
      attempt: { attempt: 1, fax_status: to, last_event_at: NOW },
      job: { status: 'placed', run_at: NOW + POLICY.finalEventTimeout, api_error_since: null },
    });
  });

  it.each([
    ['sending', 'queued'],
    ['sending', 'media.processed'],
    ['sending', 'originated'],
    ['originated', 'queued'],
    // A duplicate of the last progress event is "not forward" as well.
    ['sending', 'sending'],
    ['queued', 'queued'],
  ])('at %s, a late %s is out of order and changes nothing', (from, late) => {
    const decision = decide(job(), attempt({ fax_status: from }), seen(late));
    expect(decision).toEqual({ outcome: 'out_of_order' });
  });

  it('a final event after progress events still finishes the fax', () => {
    expect(decide(job(), attempt({ fax_status: 'sending' }), seen('delivered')).outcome).toBe('delivered');
  });

  it('a final event arriving first (reversed order) finishes the fax at once', () => {
    expect(decide(job(), attempt({ fax_status: 'queued' }), seen('delivered')).outcome).toBe('delivered');
  });

  it('an unknown status is ignored before anything is looked up', () => {
    expect(decide(null, null, seen('receiving'))).toEqual({ outcome: 'ignored' });
    expect(decide(job(), attempt(), seen('bogus'))).toEqual({ outcome: 'ignored' });
  });

  it('an event for a fax we do not know changes nothing', () => {
    expect(decide(null, null, seen('delivered'))).toEqual({ outcome: 'unknown_fax' });
    expect(decide(job(), null, seen('delivered'))).toEqual({ outcome: 'unknown_fax' });
  });
});

describe('decideOutbound: the first final event wins', () => {
  it.each([
    ['delivered', 'failed'],
    ['delivered', 'delivered'],
    ['failed', 'delivered'],
    ['failed', 'failed'],
    ['delivered', 'sending'],
    ['failed', 'queued'],
  ] as const)('an attempt already %s ignores a later %s', (state, later) => {
    const finished = attempt({ state, fax_status: state, ended_at: NOW - 1000 });
    const decision = decide(
      job({ status: state === 'delivered' ? 'delivered' : 'failed' }),
      finished,
      seen(later),
    );
    expect(decision).toEqual({ outcome: 'already_final' });
  });
});

describe('decideOutbound: delivered', () => {
  it('ends the attempt and the job with pages and duration, and queues the delivered receipt', () => {
    const decision = decide(
      job(),
      attempt({ fax_status: 'sending' }),
      seen('delivered', { pages: 3, durationSecs: 42 }),
    );
    expect(decision).toEqual({
      outcome: 'delivered',
      transition: {
        attempt: {
          attempt: 1,
          fax_status: 'delivered',
          last_event_at: NOW,
          state: 'delivered',
          ended_at: NOW,
          pages: 3,
          duration_secs: 42,
        },
        job: {
          status: 'delivered',
          run_at: null,
          finished_at: NOW,
          pages_sent: 3,
          duration_secs: 42,
          failure_reason: null,
        },
        outbox: [{ kind: 'receipt_delivered' }],
      },
    });
  });

  it('queues no receipt when receipts.on_delivered is off', () => {
    const decision = decide(job(), attempt(), seen('delivered'), { ...POLICY, receiptOnDelivered: false });
    expect(decision.outcome).toBe('delivered');
    expect(decision.transition?.outbox).toEqual([]);
    expect(decision.transition?.job?.status).toBe('delivered');
  });
});

describe('decideOutbound: retries by class until retry.max_attempts', () => {
  it.each([
    ['user_busy', 'busy'],
    ['receiver_no_answer', 'no_answer'],
    ['receiver_no_response', 'no_answer'],
    ['fax_initial_communication_timeout', 'no_answer'],
    ['receiver_call_dropped', 'dropped'],
    ['carrier_lost', 'dropped'],
    ['file_download_failed', 'dropped'],
    ['service_unavailable', 'dropped'],
    ['user_channel_limit_exceeded', 'channel_limit'],
    ['connection_channel_limit_exceeded', 'channel_limit'],
  ] as const)('%s on attempt 1 of 3 schedules a retry after the %s delay', (reason, retryClass) => {
    const decision = decide(
      job(),
      attempt({ fax_status: 'sending' }),
      seen('failed', { failureReason: reason }),
    );
    expect(decision).toEqual({
      outcome: 'retry_scheduled',
      transition: {
        attempt: {
          attempt: 1,
          fax_status: 'failed',
          last_event_at: NOW,
          state: 'failed',
          ended_at: NOW,
          failure_reason: reason,
        },
        job: { status: 'queued', run_at: NOW + POLICY.retryDelays[retryClass], last_error: reason },
      },
    });
  });

  it('retries on attempt 2 of 3 and gives up on attempt 3 of 3 with a failed receipt', () => {
    const second = decide(
      job({ attempt: 2 }),
      attempt({ attempt: 2, fax_id: 'fax-2' }),
      seen('failed', { faxId: 'fax-2', failureReason: 'user_busy' }),
    );
    expect(second.outcome).toBe('retry_scheduled');

    const third = decide(
      job({ attempt: 3 }),
      attempt({ attempt: 3, fax_id: 'fax-3' }),
      seen('failed', { faxId: 'fax-3', failureReason: 'user_busy' }),
    );
    expect(third.outcome).toBe('failed');
    expect(third.transition?.job).toEqual({
      status: 'failed',
      run_at: null,
      finished_at: NOW,
      failure_reason: 'user_busy',
      failure_detail: null,
    });
    expect(third.transition?.outbox).toEqual([{ kind: 'receipt_failed' }]);
  });

  it('max_attempts 1 means no retry at all', () => {
    const decision = decide(
      job({ max_attempts: 1 }),
      attempt(),
      seen('failed', { failureReason: 'user_busy' }),
    );
    expect(decision.outcome).toBe('failed');
  });

  it('a retryable failure never queues a receipt while a retry is scheduled', () => {
    const decision = decide(job(), attempt(), seen('failed', { failureReason: 'receiver_no_answer' }));
    expect(decision.transition?.outbox).toBeUndefined();
  });
});

describe('decideOutbound: final reasons end the job at once', () => {
  it.each([
    'receiver_unallocated_number',
    'receiver_invalid_number_format',
    'receiver_decline',
    'destination_not_in_service_plan',
    'file_format_invalid',
    'page_count_limit_exceeded',
    'sender_canceled',
    'rejected',
    // Telnyx documents failure_reason as an open string: a value nobody has seen yet is final.
    'a_reason_nobody_has_seen_yet',
  ])('%s on attempt 1 of 3 fails the job with a failed receipt', (reason) => {
    const decision = decide(job(), attempt(), seen('failed', { failureReason: reason }));
    expect(decision.outcome).toBe('failed');
    expect(decision.transition).toEqual({
      attempt: {
        attempt: 1,
        fax_status: 'failed',
        last_event_at: NOW,
        state: 'failed',
        ended_at: NOW,
        failure_reason: reason,
      },
      job: { status: 'failed', run_at: null, finished_at: NOW, failure_reason: reason, failure_detail: null },
      outbox: [{ kind: 'receipt_failed' }],
    });
  });

  it('a fax.failed without failure_reason fails with reason "unknown" (not retried)', () => {
    const decision = decide(job(), attempt(), seen('failed', { failureReason: null }));
    expect(decision.outcome).toBe('failed');
    expect(decision.transition?.job?.failure_reason).toBe('unknown');
  });

  it('queues no receipt when receipts.on_failed is off', () => {
    const decision = decide(
      job(),
      attempt(),
      seen('failed', { failureReason: 'receiver_unallocated_number' }),
      { ...POLICY, receiptOnFailed: false },
    );
    expect(decision.outcome).toBe('failed');
    expect(decision.transition?.outbox).toEqual([]);
  });
});

describe('decideOutbound: earlier attempts and finished jobs never move the job', () => {
  it.each(['delivered', 'failed', 'sending'])(
    'a %s event for attempt 1 while attempt 2 runs is stale',
    (status) => {
      const decision = decide(
        job({ attempt: 2, status: 'placed' }),
        attempt({ attempt: 1, fax_status: 'queued' }),
        seen(status, { failureReason: status === 'failed' ? 'user_busy' : null }),
      );
      expect(decision).toEqual({
        outcome: 'stale_attempt',
        transition: { attempt: { attempt: 1, fax_status: status, last_event_at: NOW } },
      });
    },
  );

  it('an event for the current attempt of a canceled job is recorded but changes no job field', () => {
    const decision = decide(
      job({ status: 'canceled', finished_at: NOW - 1000 }),
      attempt(),
      seen('delivered'),
    );
    expect(decision).toEqual({
      outcome: 'job_finished',
      transition: { attempt: { attempt: 1, fax_status: 'delivered', last_event_at: NOW } },
    });
  });
});

describe('decideOutbound: an event before Telnyx’s 202 was recorded (attempt still posting)', () => {
  const posting = attempt({ state: 'posting', fax_id: null, fax_status: null, placed_at: null });

  it('a progress event proves the fax exists: the attempt becomes placed with its fax id', () => {
    const decision = decide(job({ status: 'queued' }), posting, seen('queued', { faxId: 'fax-early' }));
    expect(decision).toEqual({
      outcome: 'progress',
      transition: {
        attempt: {
          attempt: 1,
          state: 'placed',
          fax_id: 'fax-early',
          placed_at: NOW,
          fax_status: 'queued',
          last_event_at: NOW,
        },
        job: { status: 'placed', run_at: NOW + POLICY.finalEventTimeout, api_error_since: null },
      },
    });
  });

  it('an event without a fax id leaves the attempt posting (reconciled later by client_state)', () => {
    const decision = decide(job({ status: 'queued' }), posting, seen('sending', { faxId: '' }));
    expect(decision.outcome).toBe('progress');
    expect(decision.transition?.attempt).toEqual({ attempt: 1, fax_status: 'sending', last_event_at: NOW });
  });

  it('a final event on a posting attempt records the fax id and ends it', () => {
    const decision = decide(
      job({ status: 'queued' }),
      posting,
      seen('delivered', { faxId: 'fax-early', pages: 1, durationSecs: 9 }),
    );
    expect(decision.outcome).toBe('delivered');
    expect(decision.transition?.attempt).toMatchObject({
      state: 'delivered',
      fax_id: 'fax-early',
      placed_at: NOW,
      pages: 1,
    });
  });
});
