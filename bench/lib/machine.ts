import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** What a figure was measured on, printed beside it: figures from another machine are not comparable. */
export interface MachineDescription {
  date: string;
  cpus: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  postfix: string | null;
}

export function describeMachine(): MachineDescription {
  const cpus = os.cpus();
  const postconf = spawnSync('postconf', ['-h', 'mail_version'], { encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    cpus: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    postfix: postconf.status === 0 ? postconf.stdout.trim() : null,
  };
}

/** Share of all cores busy over `windowMs`, from the kernel's per-CPU counters (0..1). */
export async function machineBusyShare(windowMs = 1000): Promise<number> {
  const totals = () =>
    os.cpus().reduce(
      (sum, cpu) => {
        const { user, nice, sys, idle, irq } = cpu.times;
        return { busy: sum.busy + user + nice + sys + irq, all: sum.all + user + nice + sys + idle + irq };
      },
      { busy: 0, all: 0 },
    );
  const before = totals();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = totals();
  return after.all === before.all ? 0 : (after.busy - before.busy) / (after.all - before.all);
}

/**
 * This machine is shared (other sessions run tests and benchmarks on it), and a figure taken while something
 * else burns a core is worthless. Waits until the cores are nearly idle for a few seconds in a row, or gives
 * up after `maxWaitMs` and says so; returns the last busy share seen, to be printed beside the figures.
 */
export async function waitForIdleMachine(maxWaitMs = 600_000, threshold = 0.1): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let calm = 0;
  let share = 1;
  while (Date.now() < deadline) {
    share = await machineBusyShare(1000);
    calm = share < threshold ? calm + 1 : 0;
    if (calm >= 3) return share;
  }
  console.log(`!! machine still ${Math.round(share * 100)}% busy after waiting; figures may be low`);
  return share;
}
