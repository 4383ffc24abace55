/**
 * Asks `/healthz` over and over while a test does something else, to show the daemon's event loop stays free: a
 * synchronous parse in the daemon would leave a probe unanswered for as long as it runs. The bound a test checks
 * is generous (a liveness check on a loaded machine, not a benchmark).
 */
export interface HealthProbe {
  /** Stops probing and reports every answer: how many, how many failed, and the slowest. */
  stop(): Promise<{ probes: number; failures: string[]; slowestMs: number }>;
}

export function startHealthProbe(baseUrl: string, timeoutMs = 10_000): HealthProbe {
  let running = true;
  let probes = 0;
  let slowestMs = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
        await response.arrayBuffer();
        if (response.status !== 200) failures.push(`status ${response.status}`);
      } catch (error) {
        failures.push(String(error));
      }
      probes += 1;
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { probes, failures, slowestMs };
    },
  };
}

/** The peak resident memory of a Linux process so far (VmHWM in /proc/PID/status), in bytes. */
export async function peakRss(pid: number | 'self'): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kb) * 1024;
}
