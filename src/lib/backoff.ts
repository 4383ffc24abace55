/**
 * Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
 * `attempt` starts at 1. `random` is injectable so tests can pin the jitter.
 */
export function calculateDelay(
  attempt: number,
  { baseMs, maxMs }: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
