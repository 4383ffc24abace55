import { ConvertError } from './convertErrors.js';

/**
 * Bounded concurrency for heavy converters (LibreOffice needs ~200 MB and a core for seconds): at most `running`
 * conversions at once, at most `waiting` queued behind them. Past that the converter counts as overloaded, and the
 * sender's server is told to try again later (451) instead of every SMTP session waiting on a growing queue.
 * Lives in the daemon, not the sandbox child, because only the daemon sees all conversions.
 */
export interface ConversionSlots {
  /** `onWait` is called when the work has to queue behind running conversions (for the log). */
  run<T>(work: () => Promise<T>, onWait?: () => void): Promise<T>;
  /** Conversions running and waiting, for metrics and tests. */
  readonly busy: number;
}

export function makeConversionSlots(running: number, waiting: number): ConversionSlots {
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    active -= 1;
    const next = queue.shift();
    if (next) {
      active += 1;
      next();
    }
  };
  return {
    get busy() {
      return active + queue.length;
    },
    async run<T>(work: () => Promise<T>, onWait?: () => void): Promise<T> {
      if (active >= running) {
        if (queue.length >= waiting) {
          throw new ConvertError('unavailable', 'the Office converter is busy with other documents');
        }
        onWait?.();
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        active += 1;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
