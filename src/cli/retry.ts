import { retryFinishedJob } from '../jobs/operatorActions.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { asProblem, type Command, EXIT } from './io.js';
import { withStore } from './offline.js';

/**
 * `faxbridge retry ID`: sends a failed or canceled fax again. It queues a NEW job for the same document,
 * number and sender, with a fresh budget of `retry.max_attempts`; the old job keeps its history and its
 * receipt. A new job rather than a reset keeps "each job state change once" (docs/behaviour.md §4) true, and
 * gives the new outcome its own receipt (receipts are unique per job and kind).
 */
export const retryCommand: Command = {
  name: 'retry',
  summary: 'send a failed or canceled fax again, as a new job',
  help: `Usage: faxbridge retry ID [--config FILE]

Queues a new job that faxes the same document to the same number for the same sender, with a fresh budget of
retry.max_attempts attempts, and prints "Queued <new-job-id> <+E164> (retry of ID)". The failed or canceled
job ID is left as it is, with its attempts and receipt; \`faxbridge job\` on either shows the other under
"Same message". The sender gets a receipt for the new job as for any other. The running daemon sends it.

Exit codes: 0 queued, 1 no such job, or it is not failed/canceled, or its document was deleted by
retention (send it again by email or \`faxbridge send\`), 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, CONFIG_OPTION, { min: 1, max: 1 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const id = parsed.positionals[0]!;
    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      const retried = await asProblem(retryFinishedJob(store, id, config.retry.max_attempts, Date.now()));
      io.out(`Queued ${retried.id} ${retried.to_number} (retry of ${id})`);
      return EXIT.ok;
    });
  },
};
