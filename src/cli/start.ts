import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { coerceError } from '../errors.js';
import { SECOND } from '../lib/units.js';
import { type Logger, makeLogger } from '../log.js';
import type { Running } from '../main.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { relaxDaemonV8Flags } from './daemonV8Flags.js';
import { type Command, EXIT, type ExitCode } from './io.js';

/** Past the grace, stop() should long be done; if something hangs anyway, leave rather than hang for ever. */
const HARD_STOP_MARGIN = 10 * SECOND;
/** How long a forced exit waits for the log lines already written to reach stdout. */
const FLUSH_WAIT = 1 * SECOND;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the daemon (sandbox mode when no Telnyx API key is configured)',
  help: `Usage: faxbridge start [--config FILE]

Runs the daemon in the foreground, logging JSON lines to stdout. The config file may also be given by
FAXBRIDGE_CONFIG; without one, sandbox defaults apply (SMTP 127.0.0.1:2525, HTTP 127.0.0.1:8080, ./var).

SIGTERM or SIGINT stops it gracefully: SMTP stops listening and answers 421 4.3.2 to new commands, a message
being transferred and the fax job in progress get up to shutdown_grace to finish, then it exits 0. A second
signal exits at once (exit 1).

Exit codes: 0 stopped cleanly, 1 could not start (the reason is printed or logged), 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, CONFIG_OPTION, { min: 0, max: 0 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const file = configFileOf(parsed);
    let loaded;
    try {
      loaded = loadConfig(file, process.env, { letLibrariesGo: true });
    } catch (error) {
      if (error instanceof ConfigError) for (const p of error.problems) io.err(`${p.key}: ${p.message}`);
      else io.err(coerceError(error).message);
      return EXIT.problems;
    }
    // Files are created owner-only by the modules that own them; the mask also covers temporary files made by
    // every other module and by child processes (converters), and this command owns the process.
    process.umask(0o077);
    const leaseMs = testLeaseMs(process.env);
    if (leaseMs === null) {
      io.err(`${TEST_LEASE_VARIABLE} must be a whole number of milliseconds, at least 1000`);
      return EXIT.problems;
    }
    const log = makeLogger();
    for (const warning of loaded.warnings) log.warn({ key: warning.key }, warning.message);
    // The daemon's modules load only now, after the configuration has been read: what reading it left behind
    // (yaml and zod, src/config/configLibraries.ts) is then collected while they load, instead of staying
    // resident until V8's memory reducer runs several seconds after start (bench/README.md, "Idle memory").
    return runUntilSignalled(log, loaded.config.shutdown_grace, async () =>
      (await import('../main.js')).run(loaded.config, log, { leaseMs }),
    );
  },
};

/**
 * TEST KNOB, deliberately not a config key (and not FAXBRIDGE_…, which names config keys): the lease length of
 * jobs and mails, so that tests that SIGKILL a daemon process see its work taken over in seconds rather than
 * after the production minute. Undefined when unset; null when set to something unusable.
 */
const TEST_LEASE_VARIABLE = 'FB_TEST_LEASE_MS';

function testLeaseMs(env: NodeJS.ProcessEnv): number | undefined | null {
  const value = env[TEST_LEASE_VARIABLE];
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  return Number.isInteger(ms) && ms >= 1000 ? ms : null;
}

/**
 * Installs the signal handlers before starting, so a SIGTERM that arrives while the daemon is still starting
 * (a container stopped right after its start) stops it as soon as it is up instead of killing it mid-way.
 */
function runUntilSignalled(log: Logger, graceMs: number, start: () => Promise<Running>): Promise<ExitCode> {
  return new Promise<ExitCode>((resolve) => {
    let running: Running | null = null;
    let stopRequested = false;

    const stop = () => {
      const hardStop = setTimeout(() => {
        log.error({ graceMs }, 'shutdown is taking longer than the grace period; exiting now');
        exitSoon(log, EXIT.problems);
      }, graceMs + HARD_STOP_MARGIN);
      hardStop.unref();
      void running!.stop().then(() => {
        clearTimeout(hardStop);
        log.info('stopped');
        log.flush();
        resolve(EXIT.ok);
      });
    };

    const onSignal = (signal: NodeJS.Signals) => {
      if (stopRequested) {
        log.warn({ signal }, 'second signal: exiting at once');
        exitSoon(log, EXIT.problems);
        return;
      }
      stopRequested = true;
      log.info(
        { signal, graceMs },
        'shutting down: no new SMTP sessions; work in flight gets the grace period',
      );
      if (running) stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // SIGHUP reloads the TLS certificate when there is one (smtp/tls.ts); it must never end the daemon.
    process.on('SIGHUP', () => log.info('SIGHUP received'));

    start().then(
      (started) => {
        running = started;
        // Lean while starting, fast once up (daemonV8Flags.ts).
        relaxDaemonV8Flags();
        if (stopRequested) stop();
      },
      (error: unknown) => {
        log.fatal({ err: coerceError(error) }, 'faxbridge could not start');
        log.flush();
        resolve(EXIT.problems);
      },
    );
  });
}

/** Exits once pino's asynchronous destination has written what it holds (bounded by FLUSH_WAIT). */
function exitSoon(log: Logger, code: ExitCode): void {
  setTimeout(() => process.exit(code), FLUSH_WAIT).unref();
  log.flush(() => process.exit(code));
}
