import os from 'node:os';

import { treeCpuMs } from './procStats.js';

/**
 * This machine is shared with other sessions that build and test at any moment. A run is only worth keeping
 * when the CPU time spent on the machine during it was ours: the server under test, its helpers, the client
 * and this process. `othersShare` is the rest, as a share of all cores over the run's wall time.
 */
export interface Contention {
  wallMs: number;
  machineBusyMs: number;
  oursMs: number;
  othersMs: number;
  othersShare: number;
}

export interface ContentionWatch {
  /** `extraOursMs`: CPU of processes that have already exited (the load client). */
  stop(extraOursMs: number): Contention;
}

export function watchContention(pids: readonly number[]): ContentionWatch {
  const started = performance.now();
  const machineBefore = machineBusyMs();
  const pidsBefore = pids.map((pid) => treeCpuMs(pid));
  const selfBefore = process.cpuUsage();
  return {
    stop(extraOursMs) {
      const wallMs = performance.now() - started;
      const machine = machineBusyMs() - machineBefore;
      const self = process.cpuUsage(selfBefore);
      const pidsMs = pids.reduce((sum, pid, i) => sum + treeCpuMs(pid) - pidsBefore[i]!, 0);
      const oursMs = pidsMs + (self.user + self.system) / 1000 + extraOursMs;
      const othersMs = Math.max(0, machine - oursMs);
      return {
        wallMs,
        machineBusyMs: machine,
        oursMs,
        othersMs,
        othersShare: othersMs / (wallMs * os.cpus().length),
      };
    },
  };
}

function machineBusyMs(): number {
  return os
    .cpus()
    .reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
}
