/**
 * Resolves with `work`, or with `onTimeout()` when `ms` pass first. The work is not cancelled (JavaScript cannot
 * stop a running parse); callers bound it in other ways and only stop waiting for it.
 */
export function withTimeLimit<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  // A rejection after the deadline has nobody waiting for it; it must not become an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
