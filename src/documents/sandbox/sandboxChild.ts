/**
 * The document sandbox's child process: receives tasks over IPC, one at a time, runs each and answers. Started by
 * documentSandbox.ts with a heap limit; the parent also watches its resident memory and wall-clock time and
 * kills it with SIGKILL past either, so nothing here needs to be careful about size or time. The parent decides
 * whether a child is used again and ends it when not.
 */
import pino from 'pino';

import { optimizeForSize, useLeanHeap } from '../../lib/leanHeap.js';
import { REDACT_PATHS } from '../../log.js';
import {
  type SandboxReply,
  type SandboxRequest,
  type SandboxTaskName,
  sandboxTasks,
} from './sandboxTasks.js';

// Before any task loads its parser: a 50 MB PDF read whole, parsed and rewritten peaks ~10 MiB lower with it.
useLeanHeap();

/** Log lines travel back with the reply, which the parent relays to the daemon's log at debug level. */
const MAX_LOG_LINES = 200;
const logLines: string[] = [];
const log = pino(
  { level: 'debug', base: null, timestamp: false, redact: REDACT_PATHS },
  {
    write: (line: string) => {
      if (logLines.length < MAX_LOG_LINES) logLines.push(line);
    },
  },
);

// The daemon went away (killed, crashed): nobody wants the answer any more.
process.on('disconnect', () => process.exit(0));

process.on('message', (message: SandboxRequest) => {
  void runTask(message).then((reply) => {
    // Each answer carries its own task's lines only.
    const log = logLines.splice(0);
    process.send?.({ ...reply, log });
  });
});

async function runTask(request: SandboxRequest): Promise<SandboxReply> {
  if (!Object.hasOwn(sandboxTasks, request.task)) return { ok: false, error: `unknown task ${request.task}` };
  optimizeForSize(request.leanHeap);
  try {
    const task = (await sandboxTasks[request.task as SandboxTaskName]()) as (
      input: unknown,
      context: { log: typeof log },
    ) => Promise<unknown>;
    return { ok: true, value: await task(request.input, { log }) };
  } catch (error) {
    log.error({ err: error, task: request.task }, 'document sandbox task failed');
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
