import { describe, expect, it } from 'vitest';

import { DAY, MINUTE } from '../../src/lib/units.js';
import { makeRateLimitGate } from '../../src/telnyx/rateLimitGate.js';
import type { TelnyxOutcome } from '../../src/telnyx/types.js';

/*
 * The gate's edges that the integration test (jobs.telnyxConcurrency) does not reach: a Retry-After far beyond
 * reason, and shutdown while the gate is open or shut.
 */
const tooMany = (retryAfterMs: number | null): TelnyxOutcome<string> => ({
  kind: 'retry',
  status: 429,
  retryAfterMs,
  reason: 'HTTP 429',
});
const ok: TelnyxOutcome<string> = { kind: 'ok', value: 'fine' };

describe('rate-limit gate', () => {
  it('stays shut at most five minutes, whatever a 429 asks (days, or more than a timer holds)', async () => {
    for (const asked of [10 * DAY, 2 ** 40]) {
      const gate = makeRateLimitGate();
      await gate.run(async () => tooMany(asked));
      expect(gate.closedForMs()).toBeGreaterThan(4 * MINUTE);
      expect(gate.closedForMs()).toBeLessThanOrEqual(5 * MINUTE);
    }
  });

  it('lets a call through an open gate even when shutdown has begun: only a wait is given up', async () => {
    const gate = makeRateLimitGate();
    const stopping = AbortSignal.abort();
    let called = 0;
    const outcome = await gate.run(async () => {
      called += 1;
      return ok;
    }, stopping);
    expect(called).toBe(1);
    expect(outcome).toEqual(ok);
  });

  it('gives up a call waiting behind a 429 at shutdown, without sending it, and says why', async () => {
    const gate = makeRateLimitGate();
    await gate.run(async () => tooMany(60_000));
    const controller = new AbortController();
    let called = 0;
    const waiting = gate.run(async () => {
      called += 1;
      return ok;
    }, controller.signal);
    controller.abort();
    const outcome = await waiting;
    expect(called).toBe(0);
    expect(outcome).toMatchObject({ kind: 'retry', status: null });
    expect((outcome as { reason: string }).reason).toMatch(/429.*cut short/);
  });
});
