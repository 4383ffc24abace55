import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { BareMode, BareSmtpStats } from '../bareSmtp.js';

/** The reference server (bench/bareSmtp.ts) in its own process, measured from /proc like the daemon. */
export interface BareChild {
  pid: number;
  port: number;
  stats(): Promise<BareSmtpStats>;
  stop(): Promise<void>;
}

const BARE_PATH = fileURLToPath(new URL('../bareSmtp.js', import.meta.url));

export async function startBareChild(mode: BareMode = 'count'): Promise<BareChild> {
  const child = spawn(process.execPath, [BARE_PATH, '0', mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('bare smtp server exited');
    return value as string;
  };
  const first = await nextLine();
  const match = /^listening (\d+)$/.exec(first);
  if (!match) throw new Error(`bare smtp server said: ${first}`);
  return {
    pid: child.pid!,
    port: Number(match[1]),
    async stats() {
      child.stdin.write('stats\n');
      return JSON.parse(await nextLine()) as BareSmtpStats;
    },
    async stop() {
      child.stdin.end('close\n');
      await exited;
    },
  };
}
