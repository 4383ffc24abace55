import { randomBytes } from 'node:crypto';

/**
 * Ids that tie a request's log lines together: a random prefix per process, so ids stay distinct across
 * restarts and instances, then a counter. A UUID per request cost more than the webhook route's own work.
 */
export function makeRequestIds(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let count = 0;
  return () => `${prefix}-${(count += 1).toString(36)}`;
}
