import { OperatorRefusal } from '../jobs/operatorActions.js';

/** Exit codes scripts can rely on (docs/behaviour.md §1): 0 fine, 1 a problem (bad config, not found, refused), 2 usage. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where a command writes: stdout for results, stderr for problems. Injected so commands never touch console. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

/** Wrong arguments: the command prints its usage and exits 2. */
export class UsageError extends Error {}

/** A problem the operator must fix (not found, refused, unreachable): printed as is, exit 1. */
export class ProblemError extends Error {}

/** The shared operator actions refuse with OperatorRefusal; on the command line that is a problem (exit 1). */
export async function asProblem<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof OperatorRefusal) throw new ProblemError(error.message);
    throw error;
  }
}

export interface Command {
  name: string;
  /** One line for `faxbridge --help`. */
  summary: string;
  /** The full `--help` text of the command, starting with its usage line. */
  help: string;
  run(args: string[], io: CliIo): Promise<ExitCode>;
}
