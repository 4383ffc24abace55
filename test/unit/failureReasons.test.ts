import { describe, expect, it } from 'vitest';

import {
  classifyFailure,
  describeFailure,
  INTERNAL_FAILURE_REASONS,
  isKnownFailureReason,
  KNOWN_FAILURE_REASONS,
  type RetryClass,
} from '../../src/domain/failureReasons.js';

/** docs/behaviour.md §4, copied by hand: the contract, not the implementation. */
const PRODUCT_CLASSES: Record<Exclude<RetryClass, 'final'>, string[]> = {
  busy: ['user_busy'],
  no_answer: ['receiver_no_answer', 'receiver_no_response', 'fax_initial_communication_timeout'],
  dropped: [
    'receiver_call_dropped',
    'sender_call_dropped',
    'carrier_lost',
    'receiver_communication_error',
    'sender_communication_error',
    'fax_signaling_error',
    'invalid_ecm_response_from_receiver',
    'receiver_recovery_on_timer_expire',
    'service_unavailable',
    'destination_unreachable',
    'media_processing_exception',
    'file_download_failed',
  ],
  channel_limit: [
    'user_channel_limit_exceeded',
    'outbound_profile_channel_limit_exceeded',
    'connection_channel_limit_exceeded',
  ],
};

const PRODUCT_FINAL = [
  'receiver_unallocated_number',
  'receiver_invalid_number_format',
  'receiver_decline',
  'receiver_incompatible_destination',
  'destination_invalid',
  'destination_not_in_service_plan',
  'destination_not_in_countries_whitelist',
  'no_outbound_profile',
  'account_disabled',
  'unverified_origination_number',
  'unverified_destination_not_allowed',
  'outbound_profile_daily_spend_limit_exceeded',
  'file_format_invalid',
  'file_size_limit_exceeded',
  'page_count_limit_exceeded',
  'sender_canceled',
  'rejected',
];

/** docs/telnyx.md §5.3, every area of the table. */
const TELNYX_REASONS = [
  ...['receiver_call_dropped', 'receiver_communication_error', 'receiver_decline'],
  ...['receiver_recovery_on_timer_expire', 'receiver_no_response', 'receiver_invalid_number_format'],
  ...['receiver_no_answer', 'receiver_incompatible_destination', 'receiver_unallocated_number'],
  ...['sender_call_dropped', 'sender_canceled', 'sender_communication_error'],
  ...['carrier_lost', 'service_unavailable', 'fax_signaling_error', 'destination_unreachable', 'user_busy'],
  ...['invalid_ecm_response_from_receiver', 'fax_initial_communication_timeout'],
  ...['destination_not_in_service_plan', 'account_disabled', 'destination_invalid', 'no_outbound_profile'],
  ...['destination_not_in_countries_whitelist', 'unverified_origination_number'],
  ...['unverified_destination_not_allowed'],
  ...['user_channel_limit_exceeded', 'outbound_profile_channel_limit_exceeded'],
  ...['connection_channel_limit_exceeded', 'outbound_profile_daily_spend_limit_exceeded'],
  ...['file_format_invalid', 'file_download_failed', 'file_size_limit_exceeded', 'page_count_limit_exceeded'],
  ...['media_processing_exception'],
  // The SPEC enum's only value.
  'rejected',
];

const EXPECTED_CLASS = new Map<string, RetryClass>([
  ...Object.entries(PRODUCT_CLASSES).flatMap(([cls, reasons]) =>
    reasons.map((reason) => [reason, cls as RetryClass] as const),
  ),
  ...PRODUCT_FINAL.map((reason) => [reason, 'final'] as const),
]);

const ALL_REASONS = [...new Set([...TELNYX_REASONS, ...EXPECTED_CLASS.keys()])];

describe('classifyFailure', () => {
  it.each([...EXPECTED_CLASS])('%s is %s (docs/behaviour.md §4)', (reason, expected) => {
    expect(classifyFailure(reason)).toBe(expected);
  });

  it('covers every Telnyx value in the product table', () => {
    expect(TELNYX_REASONS.filter((reason) => !EXPECTED_CLASS.has(reason))).toEqual([]);
    expect(TELNYX_REASONS).toHaveLength(36);
  });

  it.each(['some_new_reason_2027', '', null, undefined, '__proto__', 'constructor'])(
    'classes %j as final',
    (reason) => {
      expect(classifyFailure(reason)).toBe('final');
    },
  );

  it('tolerates case and whitespace around a known value', () => {
    expect(classifyFailure(' USER_BUSY ')).toBe('busy');
  });

  it('classes faxbridge’s own reasons as final', () => {
    for (const reason of Object.values(INTERNAL_FAILURE_REASONS)) {
      expect(classifyFailure(reason)).toBe('final');
      expect(isKnownFailureReason(reason)).toBe(true);
    }
  });
});

describe('describeFailure', () => {
  it.each(ALL_REASONS)('%s has its own short text, explanation and advice', (reason) => {
    expect(isKnownFailureReason(reason)).toBe(true);
    const { short, explanation, advice } = describeFailure(reason);
    expect(short.length).toBeGreaterThan(5);
    // Fits a subject line after "Fax to +15551234567 failed: ".
    expect(short.length).toBeLessThanOrEqual(50);
    expect(short).not.toMatch(/[.\n]$/);
    expect(explanation).toMatch(/^[A-Za-z].{15,}\.$/);
    expect(explanation).not.toContain('\n');
    expect(advice.length).toBeGreaterThan(20);
    // Plain words, not the raw code.
    expect(short).not.toContain('_');
  });

  it('gives every reason a distinct short text and explanation', () => {
    const shorts = KNOWN_FAILURE_REASONS.map((reason) => describeFailure(reason).short);
    const explanations = KNOWN_FAILURE_REASONS.map((reason) => describeFailure(reason).explanation);
    expect(new Set(shorts).size).toBe(KNOWN_FAILURE_REASONS.length);
    expect(new Set(explanations).size).toBe(KNOWN_FAILURE_REASONS.length);
  });

  it('knows nothing beyond the Telnyx values and the internal ones', () => {
    const expected = new Set([...ALL_REASONS, ...Object.values(INTERNAL_FAILURE_REASONS)]);
    expect(new Set(KNOWN_FAILURE_REASONS)).toEqual(expected);
  });

  it.each([
    ['user_busy', /busy/i, /later/i],
    ['receiver_unallocated_number', /does not exist/, /check the fax number/i],
    ['file_format_invalid', /could not be read/, /PDF/],
    ['account_disabled', /disabled/, /administrator/],
    ['page_count_limit_exceeded', /too many pages/, /350 pages/],
  ])('says the right thing for %s', (reason, shortPattern, advicePattern) => {
    const text = describeFailure(reason);
    expect(text.short).toMatch(shortPattern);
    expect(text.advice).toMatch(advicePattern);
  });

  it('names the raw code of an unknown reason', () => {
    const text = describeFailure('quantum_entanglement_lost');
    expect(text.short).toContain('quantum_entanglement_lost');
    expect(text.explanation).toContain('quantum_entanglement_lost');
    expect(text.advice).toContain('quantum_entanglement_lost');
  });

  it('keeps an unknown code printable and bounded for a subject', () => {
    const text = describeFailure(`evil\r\nBcc: victim@example.com ${'x'.repeat(200)}`);
    expect(text.short).not.toMatch(/[\r\n]/);
    expect(text.short.length).toBeLessThan(90);
  });

  it.each([null, undefined, '', '  '])('describes a missing reason (%j)', (reason) => {
    const text = describeFailure(reason);
    expect(text.short).toBe('no reason given');
    expect(text.explanation).toMatch(/did not say why/);
  });
});
