/**
 * A tool run on a stranger's file (poppler's pdftoppm on a sender's PDF or a received fax) as a process of its
 * own under util-linux's `prlimit`: at most `memoryBytes` of address space and `cpuSeconds` of CPU, whatever the
 * file makes it try; and through util-linux's `setpriv --pdeathsig KILL`, ended with the process that started it,
 * so a drawing is never left running for nobody. Both tools are in Debian's util-linux (docs/dependencies.md).
 * Where `prlimit` is missing, the caller runs the plain command under its own wall-clock limit instead.
 */
export interface ProcessLimits {
  memoryBytes: number;
  cpuSeconds: number;
}

export const PRLIMIT = 'prlimit';

/** The arguments for `prlimit` that run `command args…` under `limits`. */
export function limitedArgs(command: string, args: readonly string[], limits: ProcessLimits): string[] {
  return [
    `--as=${limits.memoryBytes}`,
    `--cpu=${Math.max(1, Math.ceil(limits.cpuSeconds))}`,
    '--',
    'setpriv',
    '--pdeathsig',
    'KILL',
    '--',
    command,
    ...args,
  ];
}
