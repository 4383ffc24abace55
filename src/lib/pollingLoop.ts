/**
 * Runs `pass` every `pollMs`, never two at once; `wake` runs it as soon as the current pass ends instead of
 * waiting for the next poll. `stop` lets the pass in progress finish and schedules no more.
 */
export interface PollingLoop {
  wake(): void;
  stop(): Promise<void>;
}

/** `pass` gets `stopping()`, so a pass that loops over batches can end early once stop was asked for. */
export function startPollingLoop(
  pass: (stopping: () => boolean) => Promise<void>,
  pollMs: number,
): PollingLoop {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let again = false;

  const tick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass(() => stopped).finally(() => {
      running = null;
      schedule(again ? 0 : pollMs);
      again = false;
    });
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, delay);
  };
  schedule(0);

  return {
    wake: () => schedule(0),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
