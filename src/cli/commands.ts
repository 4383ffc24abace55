import { cancelCommand } from './cancel.js';
import { checkConfigCommand } from './checkConfig.js';
import { doctorCommand } from './doctor.js';
import { hashPasswordCommand } from './hashPassword.js';
import type { Command } from './io.js';
import { jobCommand } from './job.js';
import { jobsCommand } from './jobs.js';
import { retryCommand } from './retry.js';
import { sendCommand } from './send.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';

/**
 * Every `faxbridge` subcommand, in the order `--help` lists them. A new command is one file in src/cli/ with
 * a `Command` export, added here.
 */
export const COMMANDS: readonly Command[] = [
  startCommand,
  checkConfigCommand,
  doctorCommand,
  sendCommand,
  simulateCommand,
  jobsCommand,
  jobCommand,
  retryCommand,
  cancelCommand,
  hashPasswordCommand,
];
