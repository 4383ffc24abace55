/**
 * Every start returns its stop; a stop stack runs them in reverse order of start. A stop learns how much of
 * the whole stop's grace is left, so the components stopped early (intake) cannot eat the time of those
 * stopped late (work in flight).
 */
export interface Stopping {
  /** The grace the whole stop was given. */
  graceMs: number;
  /** What is left of it now. */
  left(): number;
}

export interface Stoppable {
  stop(stopping: Stopping): Promise<void>;
}

export interface StopStack {
  /** Remembers a started component; returns it, so `const http = stack.push(await startHttp(ctx))` reads. */
  push<T extends Stoppable>(started: T): T;
  /**
   * Stops everything pushed, last first, within one deadline of `graceMs`. A stop that throws does not keep
   * the ones before it from running (the database still closes); the first error is thrown at the end.
   */
  stopAll(graceMs: number): Promise<void>;
}

export function makeStopStack(): StopStack {
  const started: Stoppable[] = [];
  return {
    push(component) {
      started.push(component);
      return component;
    },
    async stopAll(graceMs) {
      const deadline = Date.now() + graceMs;
      const stopping: Stopping = { graceMs, left: () => Math.max(0, deadline - Date.now()) };
      const errors: unknown[] = [];
      for (let next = started.pop(); next; next = started.pop()) {
        await next.stop(stopping).catch((error: unknown) => errors.push(error));
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}
