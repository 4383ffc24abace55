import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * What the kernel says about a process, read from /proc (Linux only). Benchmarks measure the daemon from
 * outside, so nothing in the daemon has to cooperate or change for a measurement.
 */
export interface ProcSample {
  /** User + system CPU time so far, in milliseconds. */
  cpuMs: number;
  /** Resident set size now (VmRSS), bytes. */
  rssBytes: number;
  /** Peak resident set size since the process started (VmHWM), bytes. */
  hwmBytes: number;
}

/** Clock ticks per second for /proc/PID/stat; 100 on every Linux build this runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

export function readProcSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of stat(5); `fields` starts at field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND,
    rssBytes: statusKilobytes(status, 'VmRSS') * 1024,
    hwmBytes: statusKilobytes(status, 'VmHWM') * 1024,
  };
}

/** Every process's parent and CPU from /proc/PID/stat: its own (utime + stime) and its waited-for children's. */
interface ProcCpu {
  ppid: number;
  ownMs: number;
  reapedMs: number;
}

function readAllProcCpu(): Map<number, ProcCpu> {
  const stats = new Map<number, ProcCpu>();
  const ms = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 4 (ppid), 14-15 (utime, stime) and 16-17 (cutime, cstime) of stat(5); `fields` starts at field 3.
      stats.set(Number(name), {
        ppid: Number(fields[1]),
        ownMs: ms(Number(fields[11]) + Number(fields[12])),
        reapedMs: ms(Number(fields[13]) + Number(fields[14])),
      });
    } catch {
      // the process ended while we looked
    }
  }
  return stats;
}

/**
 * CPU of `pid` and of every process it started: its live descendants (the daemon's warm document-sandbox
 * children) and those it has already waited for (cutime + cstime). The daemon's own work includes the PDF checks
 * it hands to a child; without this they would count as another session's load and discard every run.
 */
export function treeCpuMs(pid: number): number {
  const stats = readAllProcCpu();
  let total = 0;
  const walk = (at: number): void => {
    const entry = stats.get(at);
    if (!entry) return;
    total += entry.ownMs + entry.reapedMs;
    for (const [child, info] of stats) if (info.ppid === at) walk(child);
  };
  walk(pid);
  return total;
}

/**
 * CPU of the daemon's children by what they run (`readerEntry.js`, `sandboxChild.js`: the last argument of a
 * child's command line), live ones only, plus `ended children`: those the daemon has already waited for. Take it
 * before and after a run and subtract (`subtractCpu`) to see where the work went.
 */
export function childCpuByScript(pid: number): Map<string, number> {
  const stats = readAllProcCpu();
  const byScript = new Map([['ended children', stats.get(pid)?.reapedMs ?? 0]]);
  for (const [child, info] of stats) {
    if (info.ppid !== pid) continue;
    try {
      const args = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const script = basename(args.at(-1) ?? 'unknown');
      byScript.set(script, (byScript.get(script) ?? 0) + info.ownMs);
    } catch {
      // the process ended while we looked
    }
  }
  return byScript;
}

/** `after - before` per key; a child started during the run counts from zero. */
export function subtractCpu(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([key, ms]) => [key, ms - (before.get(key) ?? 0)]));
}

function statusKilobytes(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc status has no ${key} line`);
  return Number(match[1]);
}

/** Samples VmRSS every `intervalMs` so a report can say when the peak happened, not only how high it was. */
export interface RssSampler {
  stop(): Array<{ atMs: number; rssBytes: number }>;
}

export function startRssSampler(pid: number, intervalMs = 50): RssSampler {
  const started = performance.now();
  const samples: Array<{ atMs: number; rssBytes: number }> = [];
  const timer = setInterval(() => {
    try {
      samples.push({ atMs: Math.round(performance.now() - started), rssBytes: readProcSample(pid).rssBytes });
    } catch {
      // The process ended; the samples so far are what there is.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

export const MiB = 1024 * 1024;

export function mib(bytes: number): number {
  return Math.round((bytes / MiB) * 10) / 10;
}

/**
 * The peak RSS (VmHWM) of every child a process starts while this runs: the document sandbox's `node` children,
 * converters, pdftoppm. Children live for a fraction of a second to a few seconds, so they are looked for every
 * `intervalMs` and each one's VmHWM is read until it is gone; the last reading before it exits may miss a rise in
 * its final few milliseconds.
 */
export interface ChildPeaks {
  stop(): Array<{ pid: number; command: string; hwmBytes: number }>;
}

export function startChildPeakSampler(pid: number, intervalMs = 20): ChildPeaks {
  const peaks = new Map<number, { pid: number; command: string; hwmBytes: number }>();
  const look = (): void => {
    let children: string[];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    } catch {
      return;
    }
    for (const child of children.filter(Boolean).map(Number)) {
      try {
        const status = readFileSync(`/proc/${child}/status`, 'utf8');
        const hwmBytes = statusKilobytes(status, 'VmHWM') * 1024;
        const command = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
        const known = peaks.get(child);
        if (!known || hwmBytes > known.hwmBytes) peaks.set(child, { pid: child, command, hwmBytes });
      } catch {
        // Gone between the listing and the read, or a zombie without memory lines.
      }
    }
  };
  const timer = setInterval(look, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      look();
      return [...peaks.values()];
    },
  };
}
