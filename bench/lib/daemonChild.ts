import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from '../../test/helpers/freePort.js';

/**
 * The real daemon as a separate process (`node dist/src/cli.js start --config FILE`), so that its CPU time and
 * peak RSS can be read from /proc without the benchmark's own work mixed in. Its log goes to a file, as a
 * daemon's stdout would go to journald; the file is also how we learn that it has started.
 */
export interface DaemonChildOptions {
  dataDir: string;
  /** Extra YAML appended to the generated config (data_dir and both listeners are set here). */
  yaml?: string;
  /** Environment for the child on top of a cleaned copy of ours (TELNYX_* and FAXBRIDGE_* removed). */
  env?: Record<string, string>;
  /** Defaults to `<dataDir>/daemon.log`. */
  logFile?: string;
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=DIR` (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  /** Picked here when absent; given when the config must name it in advance (http.public_url). */
  httpPort?: number;
  startTimeoutMs?: number;
}

export interface DaemonChild {
  pid: number;
  smtpPort: number;
  httpPort: number;
  dataDir: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const CLI_PATH = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const STARTED_LINE = '"msg":"faxbridge started"';

export async function startDaemonChild(options: DaemonChildOptions): Promise<DaemonChild> {
  const smtpPort = await freePort();
  const httpPort = options.httpPort ?? (await freePort());
  const logFile = options.logFile ?? path.join(options.dataDir, 'daemon.log');
  const configFile = path.join(options.dataDir, 'faxbridge.yaml');
  writeFileSync(
    configFile,
    [
      `data_dir: ${JSON.stringify(options.dataDir)}`,
      'smtp:',
      `  listen: 127.0.0.1:${smtpPort}`,
      'http:',
      `  listen: 127.0.0.1:${httpPort}`,
      options.yaml ?? '',
    ].join('\n'),
  );
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), CLI_PATH, 'start', '--config', configFile],
    {
      stdio: ['ignore', logFd, logFd],
      env: { ...cleanEnvironment(), ...options.env },
    },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForStart(child, logFile, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    pid: child.pid!,
    smtpPort,
    httpPort,
    dataDir: options.dataDir,
    logFile,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A benchmark must not pick up a real Telnyx key (or any other setting) from the shell it runs in. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('TELNYX_') || name.startsWith('FAXBRIDGE_')) delete env[name];
  }
  return env;
}

async function waitForStart(child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(logFile, 'utf8');
    if (log.includes(STARTED_LINE)) return;
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`daemon did not start (see ${logFile}):\n${log.split('\n').slice(-10).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
