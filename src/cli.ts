#!/usr/bin/env node
import { ConfigError, type ConfigProblem, loadConfig } from './config/loadConfig.js';
import { coerceError } from './errors.js';
import { makeLogger } from './log.js';
import { run } from './main.js';

/** Exit codes scripts can rely on. */
const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

const USAGE = `Usage: faxbridge <command> [options]

Commands:
  start [--config FILE]     run the daemon (sandbox mode when no Telnyx API key is configured)
  check-config FILE         validate a configuration file with the environment applied
  help                      show this text

The config file can also be given by FAXBRIDGE_CONFIG. Exit codes: 0 fine, 1 problems, 2 usage.`;

async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return EXIT.ok;
  }
  if (command === 'check-config') return checkConfig(rest);
  if (command === 'start') return start(rest);
  console.error(`faxbridge: unknown command "${command}"\n\n${USAGE}`);
  return EXIT.usage;
}

function checkConfig(args: string[]): number {
  if (args.includes('--help')) {
    console.log(
      'Usage: faxbridge check-config FILE\nPrints one line per problem as key.path: message; exit 0/1/2.',
    );
    return EXIT.ok;
  }
  const file = args[0];
  if (!file || args.length > 1) {
    console.error('Usage: faxbridge check-config FILE');
    return EXIT.usage;
  }
  try {
    const { config, warnings } = loadConfig(file);
    printProblems(warnings, 'warning: ');
    console.log(`${file}: OK (${config.sandbox ? 'sandbox mode' : 'production mode'})`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError) {
      printProblems(error.problems);
      return EXIT.problems;
    }
    console.error(coerceError(error).message);
    return EXIT.problems;
  }
}

function printProblems(problems: ConfigProblem[], prefix = ''): void {
  for (const problem of problems) console.error(`${prefix}${problem.key}: ${problem.message}`);
}

async function start(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(
      'Usage: faxbridge start [--config FILE]\nRuns the daemon; SIGTERM or SIGINT stops it gracefully.',
    );
    return EXIT.ok;
  }
  const index = args.indexOf('--config');
  if (index >= 0 && !args[index + 1]) {
    console.error('Usage: faxbridge start [--config FILE]');
    return EXIT.usage;
  }
  const file = index >= 0 ? args[index + 1]! : (process.env.FAXBRIDGE_CONFIG ?? null);
  let loaded;
  try {
    loaded = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) printProblems(error.problems);
    else console.error(coerceError(error).message);
    return EXIT.problems;
  }
  const log = makeLogger();
  for (const warning of loaded.warnings) log.warn({ key: warning.key }, warning.message);
  let running;
  try {
    running = await run(loaded.config, log);
  } catch (error) {
    log.fatal({ err: coerceError(error) }, 'faxbridge could not start');
    log.flush();
    return EXIT.problems;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting at once');
        log.flush();
        process.exit(EXIT.problems);
      }
      stopping = true;
      log.info({ signal, graceMs: loaded.config.shutdown_grace }, 'shutting down');
      void running.stop().then(() => {
        log.info('stopped');
        log.flush();
        resolve(EXIT.ok);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Stray handles (keep-alive sockets, timers) must not keep a stopped daemon alive.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    console.error(coerceError(error));
    process.exit(EXIT.problems);
  },
);
