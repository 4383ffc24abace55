import { randomBytes } from 'node:crypto';

import type { Ctx } from '../context.js';
import { coerceError } from '../errors.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import { MINUTE, SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { JobRow, Transition } from '../store/jobStore.js';

export interface JobRunnerOptions extends Pick<Ctx, 'store' | 'clock' | 'log'> {
  work: (job: JobRow, owner: string, log: Logger, signal: AbortSignal) => Promise<Transition | null>;
  /** Jobs worked at once (the daemon passes `telnyx.concurrency` + BUILT_AHEAD, startJobs.ts). */
  concurrency: number;
  pollMs?: number;
  leaseMs?: number;
  /** How far back a job's `run_at` must lie to be claimed now (intakeFirst.ts); 0 when absent. */
  holdBack?: () => number;
}

export interface JobRunner {
  readonly owner: string;
  /** Look for due jobs now instead of at the next poll. */
  wake(): void;
  /** Stops claiming; waits up to `graceMs` for jobs in flight, then aborts them. */
  stop(graceMs: number): Promise<void>;
}

/** Renewed every third of itself while a job runs; a dead worker's jobs are free again after this. */
const DEFAULT_LEASE = 1 * MINUTE;

/**
 * Claims due jobs under a lease and works them with bounded concurrency. A lease is renewed while the job
 * runs; a crashed worker's lease simply runs out and another worker (or the restarted process) takes over.
 */
export function startJobRunner(options: JobRunnerOptions): JobRunner {
  const { store, clock, log, work } = options;
  const { concurrency } = options;
  const pollMs = options.pollMs ?? 1 * SECOND;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE;
  const owner = `worker-${randomBytes(6).toString('hex')}`;
  const abort = new AbortController();
  const running = new Set<Promise<void>>();

  // One claim per pass; a full batch or a finished job wakes the loop so free slots fill at once.
  const loop = startPollingLoop(
    async (stopping) => {
      if (stopping()) return;
      try {
        const free = concurrency - running.size;
        if (free > 0) {
          const now = clock.now();
          const jobs = await store.claimJobs(owner, now, leaseMs, free, now - (options.holdBack?.() ?? 0));
          for (const job of jobs) track(runOne(job));
          if (jobs.length === free) loop.wake();
        }
      } catch (error) {
        log.error({ err: coerceError(error) }, 'could not claim jobs');
      }
    },
    { everyMs: pollMs, name: 'job claim', log },
  );

  function track(promise: Promise<void>): void {
    running.add(promise);
    void promise.finally(() => {
      running.delete(promise);
      loop.wake();
    });
  }

  async function runOne(job: JobRow): Promise<void> {
    const jobLog = log.child({ job: job.id });
    const renew = setInterval(() => {
      void store.renewLease(job.id, owner, clock.now() + leaseMs).catch(() => undefined);
    }, leaseMs / 3);
    try {
      const transition = await work(job, owner, jobLog, abort.signal);
      if (transition && !(await store.completeWork(job.id, owner, transition, clock.now()))) {
        jobLog.warn('lease lost before the job could be updated; another worker has it');
      }
    } catch (error) {
      // The lease is left to expire so the job is retried, never dropped.
      jobLog.error({ err: coerceError(error) }, 'job failed unexpectedly; it will be retried');
    } finally {
      clearInterval(renew);
    }
  }

  return {
    owner,
    wake: () => loop.wake(),
    async stop(graceMs) {
      await loop.stop();
      const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.allSettled([...running]), deadline]);
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}
