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
