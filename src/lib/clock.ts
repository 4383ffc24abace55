/** Time is injected so that tests can move it (retention, leases, stale webhooks) without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
