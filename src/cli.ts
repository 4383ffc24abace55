#!/usr/bin/env node
import { type CommandEntry, COMMANDS } from './cli/commands.js';
import {
  type CliIo,
  type Command,
  EXIT,
  type ExitCode,
  ProblemError,
  processIo,
  UsageError,
} from './cli/io.js';
import { coerceError } from './errors.js';

/** The `faxbridge` command (package.json `bin`). Each subcommand lives in src/cli/<name>.ts. */

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `Usage: faxbridge <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}
  ${'help'.padEnd(width)}  show this text, or \`faxbridge help COMMAND\` for one command

Every command takes --help. Commands that use the configuration read --config FILE, else FAXBRIDGE_CONFIG,
and the environment (FAXBRIDGE_*, TELNYX_*) on top, as \`start\` does.
Exit codes: 0 fine, 1 a problem (printed on stderr), 2 usage.`;
}

async function main(argv: string[], io: CliIo = processIo): Promise<ExitCode> {
  const [name = 'start', ...rest] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0] ? COMMANDS.find((command) => command.name === rest[0]) : undefined;
    io.out(topic ? (await topic.load()).help : usage());
    return EXIT.ok;
  }
  const entry: CommandEntry | undefined = COMMANDS.find((candidate) => candidate.name === name);
  if (!entry) {
    io.err(`faxbridge: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  return runCommand(await entry.load(), rest, io);
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<ExitCode> {
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`faxbridge ${command.name}: ${error.message}\n\n${command.help.split('\n\n')[0]}`);
      return EXIT.usage;
    }
    if (error instanceof ProblemError) {
      io.err(`faxbridge ${command.name}: ${error.message}`);
      return EXIT.problems;
    }
    const unexpected = coerceError(error);
    io.err(`faxbridge ${command.name}: ${unexpected.message}`);
    return EXIT.problems;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Stray handles (keep-alive sockets, timers) must not keep a stopped daemon or a finished command alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`${String(coerceError(error).stack)}\n`);
    process.exit(EXIT.problems);
  },
);
