import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { queuePdf } from '../jobs/queuePdf.js';
import { CONFIG_OPTION, configFileOf, listOption, parseCommandArgs, stringOption } from './args.js';
import { asProblem, type Command, EXIT, ProblemError, UsageError } from './io.js';
import { openDocuments, withStore } from './offline.js';

/**
 * `faxbridge send --to NUMBER --as EMAIL FILE.pdf`: queues a fax without an email. The same checks as SMTP
 * intake apply (number policy, the sender's `senders` entry, the PDF), the document goes to the same storage,
 * and the job is stored exactly as an accepted message's would be; the running daemon's workers pick it up and
 * the receipts go to EMAIL.
 */
export const sendCommand: Command = {
  name: 'send',
  summary: 'queue a fax of a PDF without an email (receipts go to the --as address)',
  help: `Usage: faxbridge send --to NUMBER [--to NUMBER…] --as EMAIL [--config FILE] FILE.pdf

Queues FILE.pdf for each NUMBER as if EMAIL had emailed it: EMAIL must be allowed by \`senders\` (anyone in
sandbox mode) and sends from its from_number; receipts go to EMAIL. Numbers are read as in email addresses
(national numbers of smtp.default_country are fine) and must be allowed by smtp.allowed_countries and
blocked_prefixes. The running daemon sends the job; without one it waits in the queue until \`start\`.

Prints "Queued <job-id> <+E164>" per number. Exit codes: 0 queued, 1 refused (number, sender, PDF,
configuration), 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(
      args,
      { ...CONFIG_OPTION, to: { type: 'string', multiple: true }, as: { type: 'string' } },
      { min: 1, max: 1 },
    );
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const targets = listOption(parsed, 'to');
    const sender = stringOption(parsed, 'as')?.trim().toLowerCase();
    if (targets.length === 0) throw new UsageError('--to NUMBER is required');
    if (!sender) throw new UsageError('--as EMAIL is required');
    const file = parsed.positionals[0]!;

    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      await stat(file).catch(() => {
        throw new ProblemError(`cannot read ${file}`);
      });
      // Storage moves the file it is given; hand it a copy in data_dir, never the operator's own file.
      const workDir = path.join(config.data_dir, 'tmp');
      await mkdir(workDir, { recursive: true });
      const copy = path.join(workDir, `send-${randomBytes(6).toString('hex')}.pdf`);
      try {
        await copyFile(file, copy);
        const documents = await openDocuments(config);
        const jobs = await asProblem(
          queuePdf(
            { config, store, documents, now: Date.now },
            { sender, targets, file: copy, filename: path.basename(file), subject: null, origin: 'cli' },
          ),
        );
        for (const job of jobs) io.out(`Queued ${job.id} ${job.to_number}`);
        return EXIT.ok;
      } finally {
        await rm(copy, { force: true });
      }
    });
  },
};
