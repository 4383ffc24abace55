import type { Command } from './io.js';

/**
 * Every `faxbridge` subcommand, in the order `--help` lists them. Each is loaded only when it runs (or its help
 * is asked for): `faxbridge jobs` should not pay for the daemon, the console and the document converters that
 * `start` needs. A new command is one file in src/cli/ with a `Command` export, added here with the same
 * summary (test/unit/cli.commands.test.ts keeps the two in step).
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'start',
    summary: 'run the daemon (sandbox mode when no Telnyx API key is configured)',
    load: async () => {
      // Before start.js loads the daemon's modules, whose loading would already grow the heap (daemonV8Flags.ts).
      // libuv's pool (4 threads by default) carries every fsync (documents, folders, the SQLite WAL), the
      // webhook signature checks and DNS lookups: a few large documents being synced must not hold up the
      // rest. Read when the pool first starts: on Node 24 (the image) that is the import below, so this holds;
      // Node 20's module loader starts it before any of our code runs, so there it takes the environment
      // (contrib/faxbridge.service sets it). An operator's own value wins.
      process.env.UV_THREADPOOL_SIZE ??= '16';
      (await import('./daemonV8Flags.js')).applyDaemonV8Flags();
      return (await import('./start.js')).startCommand;
    },
  },
  {
    name: 'check-config',
    summary: 'validate a configuration file with the environment applied',
    load: async () => (await import('./checkConfig.js')).checkConfigCommand,
  },
  {
    name: 'doctor',
    summary: 'check the set-up live: Telnyx account, public URL, mail relay, database, storage, tools',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  {
    name: 'send',
    summary: 'queue a fax of documents without an email (receipts go to the --as address)',
    load: async () => (await import('./send.js')).sendCommand,
  },
  {
    name: 'simulate',
    summary: 'sandbox: make the running daemon receive a fax (simulate inbound --from … --to …)',
    load: async () => (await import('./simulate.js')).simulateCommand,
  },
  {
    name: 'jobs',
    summary: 'list fax jobs, newest first',
    load: async () => (await import('./jobs.js')).jobsCommand,
  },
  {
    name: 'job',
    summary: 'show one job: attempts, Telnyx events, receipts',
    load: async () => (await import('./job.js')).jobCommand,
  },
  {
    name: 'retry',
    summary: 'send a failed or canceled fax again, as a new job',
    load: async () => (await import('./retry.js')).retryCommand,
  },
  {
    name: 'cancel',
    summary: 'cancel a queued or placed fax (at Telnyx too)',
    load: async () => (await import('./cancel.js')).cancelCommand,
  },
  {
    name: 'hash-password',
    summary: 'print the scrypt hash of an SMTP AUTH password, for smtp.auth[].password_hash',
    load: async () => (await import('./hashPassword.js')).hashPasswordCommand,
  },
];
