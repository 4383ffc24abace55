import { readdirSync, readFileSync } from 'node:fs';

/** The pids of the MIME readers (children running readerEntry.js) that process `parent` started. */
export function mimeReaderPids(parent: number): number[] {
  const pids: number[] = [];
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${parent}/task`);
  } catch {
    return pids;
  }
  for (const thread of threads) {
    let children: string;
    try {
      children = readFileSync(`/proc/${parent}/task/${thread}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('readerEntry.js')) pids.push(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return pids;
}

/** Whether `pid` is a live process (a zombie still has a /proc entry; a reaped process has none). */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
