import type { Config } from '../config/loadConfig.js';
import { cancelJob, cancelWithClient } from '../jobs/operatorActions.js';
import { makeTelnyxClient } from '../telnyx/client.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { asProblem, type Command, EXIT } from './io.js';
import { withStore } from './offline.js';

/**
 * `faxbridge cancel ID`: a queued job is canceled here; a placed one is canceled at Telnyx first (POST
 * /faxes/{id}/actions/cancel) and only then marked. The job is leased like a worker would, so a worker cannot
 * write over the cancel, and the sender gets the failure receipt (reason: canceled) when receipts.on_failed.
 */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a queued or placed fax (at Telnyx too)',
  help: `Usage: faxbridge cancel ID [--config FILE]

Cancels job ID. A queued job (not sent yet, or waiting for a retry) is canceled at once. A placed job (Telnyx
is dialling or transmitting) is canceled at Telnyx first, with the API key of the configuration; if Telnyx
refuses (the fax is already past sending) nothing changes. The sender gets a failure receipt saying the fax
was cancelled (receipts.on_failed). In sandbox mode the built-in simulator is not told.

Exit codes: 0 canceled, 1 no such job, already finished, busy (a worker holds it: try again in a moment), or
Telnyx refused or could not be reached, 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(args, CONFIG_OPTION, { min: 1, max: 1 });
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const id = parsed.positionals[0]!;
    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      const canceled = await asProblem(
        cancelJob(store, id, {
          cancelAtTelnyx: config.sandbox
            ? async () =>
                io.err('sandbox mode: the built-in simulator is not told; its events will be ignored')
            : (faxId) => cancelAtTelnyx(config, faxId),
          failedReceipt: config.receipts.on_failed,
          by: 'faxbridge cancel',
          now: Date.now,
        }),
      );
      io.out(`Canceled ${id} ${canceled.to_number}`);
      return EXIT.ok;
    });
  },
};

async function cancelAtTelnyx(config: Config, faxId: string): Promise<void> {
  const telnyx = makeTelnyxClient({
    apiUrl: config.telnyx.api_url,
    apiKey: config.telnyx.api_key ?? '',
    timeoutMs: config.telnyx.request_timeout,
  });
  try {
    await cancelWithClient(telnyx, faxId);
  } finally {
    await telnyx.close();
  }
}
