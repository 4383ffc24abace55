import { resolve } from 'node:path';

import type { Logger } from '../log.js';
import { type DocumentSandbox, sharedDocumentSandbox } from './sandbox/documentSandbox.js';

/**
 * The page count of a PDF someone else made (a received fax, a document fetched by the simulator), read in the
 * document sandbox. Null when it cannot be counted safely: damaged, encrypted, too complex, or stopped at the
 * sandbox's memory or time limit. Callers carry on without a count; the reason is logged.
 */
export async function countPdfPages(
  path: string,
  log?: Logger,
  sandbox: DocumentSandbox = sharedDocumentSandbox(),
): Promise<number | null> {
  try {
    const outcome = await sandbox.run('countPdfPages', { path: resolve(path) }, { log });
    if (!outcome.ok) {
      log?.warn(
        { limit: outcome.limit, detail: outcome.detail },
        'PDF pages not counted: stopped by the sandbox',
      );
      return null;
    }
    if (outcome.value.problem) log?.info({ problem: outcome.value.problem }, 'PDF pages not counted');
    return outcome.value.pages;
  } catch (error) {
    // The sandbox could not start (a missing build, no process slots): a count is not worth failing for.
    log?.error({ err: error }, 'PDF pages not counted: the document sandbox failed');
    return null;
  }
}
