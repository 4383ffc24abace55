/**
 * The one way the daemon runs background work: runs `pass` at once and then `everyMs` after each pass ends,
 * never two passes at once; `wake` runs it as soon as the current pass ends instead of waiting for the next
 * poll. A pass that throws is logged and the loop goes on. `stop` lets the pass in progress finish and
 * schedules no more.
 */
export interface PollingLoop {
  wake(): void;
  stop(): Promise<void>;
}

/** The slice of a pino logger the loop needs; lib/ knows nothing of the daemon's logger. */
export interface LoopLogger {
  error(fields: object, message: string): void;
}

export interface PollingLoopOptions {
  /** Pause between the end of one pass and the start of the next. */
  everyMs: number;
  /** Names the loop in the log line of a failed pass, e.g. `retention sweep` → "retention sweep failed". */
  name: string;
  log: LoopLogger;
}

/** `pass` gets `stopping()`, so a pass that loops over batches can end early once stop was asked for. */
export function startPollingLoop(
  pass: (stopping: () => boolean) => Promise<void>,
  options: PollingLoopOptions,
): PollingLoop {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let passing = false;
  let stopped = false;
  let again = false;

  const runPass = async () => {
    try {
      await pass(() => stopped);
    } catch (error) {
      options.log.error({ err: error }, `${options.name} failed`);
    }
  };
  const tick = () => {
    timer = null;
    if (stopped) return;
    if (passing) {
      again = true;
      return;
    }
    // Set before the pass starts: a pass can call `wake` before its first await.
    passing = true;
    running = runPass().finally(() => {
      passing = false;
      running = null;
      const delay = again ? 0 : options.everyMs;
      again = false;
      schedule(delay);
    });
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, delay);
  };
  schedule(0);

  return {
    // During a pass, a wake is remembered rather than timed: a timer set now could fire after the pass
    // ended and be replaced by the pass's own `everyMs` schedule, losing the wake.
    wake() {
      if (passing) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
