import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The daemon as a real child process (`node dist/src/cli.js start --config FILE`), for what an in-process
 * daemon cannot show: SIGKILL at an awkward moment, then a restart on the same data dir. `npm test` builds
 * dist first; a standalone run needs `npm run build`.
 */
export const CLI_PATH = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface DaemonProcessOptions {
  /** Where the config file is written (`faxbridge.yaml`); usually the daemon's data dir. */
  dir: string;
  /** The whole YAML config. */
  yaml: string;
  /** Environment added to this process's (TELNYX_API_URL etc. override the file). */
  env?: Record<string, string>;
  /** How long to wait for "faxbridge started" (default 20 s). */
  startTimeoutMs?: number;
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the daemon wrote so far (pino JSON lines on stdout, anything else on stderr). */
  output(): string;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends the signal (SIGKILL by default) and waits for the exit. Harmless when already gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ProductionConfig {
  dataDir: string;
  smtpPort: number;
  httpPort: number;
  telnyxApiUrl: string;
  telnyxPublicKey: string;
  telnyxApiKey?: string;
  /** Extra top-level YAML appended as is (must not repeat the keys written here). */
  extra?: string;
}

/**
 * A production-mode config (an API key, so no sandbox and no built-in simulator) whose Telnyx is whatever
 * `telnyxApiUrl` points at, with fixed ports so that a restart serves the same public URL.
 */
export function productionYaml(config: ProductionConfig): string {
  const http = `http://127.0.0.1:${config.httpPort}`;
  return [
    `data_dir: ${JSON.stringify(config.dataDir)}`,
    'smtp:',
    `  listen: 127.0.0.1:${config.smtpPort}`,
    '  domains: [fax.example.com]',
    'http:',
    `  listen: 127.0.0.1:${config.httpPort}`,
    `  public_url: ${http}`,
    'telnyx:',
    `  api_url: ${config.telnyxApiUrl}`,
    `  api_key: ${JSON.stringify(config.telnyxApiKey ?? 'test-api-key')}`,
    `  public_key: ${JSON.stringify(config.telnyxPublicKey)}`,
    '  connection_id: "1"',
    'senders:',
    '  - match: alice@example.com',
    '    from_number: "+15550001111"',
    'admin: [admin@example.com]',
    config.extra ?? '',
  ].join('\n');
}

/**
 * Starts the daemon and resolves once it logged "faxbridge started" (SMTP and HTTP are listening). Rejects
 * with its output if it exits or stays silent first. `FB_TEST_LOG=/path` appends its output there too.
 */
export async function startDaemonProcess(options: DaemonProcessOptions): Promise<DaemonProcess> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const configFile = path.join(options.dir, 'faxbridge.yaml');
  writeFileSync(configFile, options.yaml);
  const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (process.env.FB_TEST_LOG) appendFileSync(process.env.FB_TEST_LOG, text);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const handle: DaemonProcess = {
    child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (!gone) child.kill(signal);
      await exited;
    },
  };

  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  while (!/"msg":"faxbridge started"/.test(output)) {
    if (gone || Date.now() > deadline) {
      await handle.kill();
      throw new Error(
        `daemon did not start (${gone ? 'it exited' : `no "faxbridge started" within ${timeoutMs} ms`}):\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return handle;
}

/** Tracks every daemon a test starts so that afterEach can kill them all, even when the test failed. */
export function makeDaemonProcessPool() {
  const started = new Set<DaemonProcess>();
  return {
    async start(options: DaemonProcessOptions): Promise<DaemonProcess> {
      const daemon = await startDaemonProcess(options);
      started.add(daemon);
      void daemon.exited.then(() => started.delete(daemon));
      return daemon;
    },
    async killAll(): Promise<void> {
      await Promise.all([...started].map((daemon) => daemon.kill('SIGKILL')));
      started.clear();
    },
  };
}
