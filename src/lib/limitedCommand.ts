/**
 * A tool run on a stranger's file (poppler's pdftoppm on a sender's PDF or a received fax) as a process of its
 * own under util-linux's `prlimit`: at most `memoryBytes` of address space and `cpuSeconds` of CPU, whatever the
 * file makes it try; and through util-linux's `setpriv --pdeathsig KILL`, ended with the process that started it,
 * so a drawing is never left running for nobody. Both tools are in Debian's util-linux (docs/dependencies.md).
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

/**
 * Starts `command args…` through `start` under `limits`; where `prlimit` is missing (`start` rejects with
 * ENOENT), the plain command, and `limited` false tells `start` that only its own wall-clock limit holds. Any
 * other failure, and the plain command's own ENOENT, reach the caller.
 */
export async function runLimited<T>(
  start: (command: string, args: string[], limited: boolean) => Promise<T>,
  command: string,
  args: string[],
  limits: ProcessLimits,
): Promise<T> {
  try {
    return await start(PRLIMIT, limitedArgs(command, args, limits), true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return start(command, args, false);
  }
}
