import { readFileSync } from 'node:fs';

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
