import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { makeUploadIntake, type Upload } from '../jobs/queueUploads.js';
import { formatBytes } from '../lib/units.js';
import { makeSilentLogger } from '../log.js';
import { CONFIG_OPTION, configFileOf, listOption, parseCommandArgs, stringOption } from './args.js';
import { asProblem, type Command, EXIT, ProblemError, UsageError } from './io.js';
import { openDocuments, withStore } from './offline.js';

/** As many files as a message may carry documents; more is a mistake on the command line. */
const MAX_FILES = 50;

/**
 * `faxbridge send --to NUMBER --as EMAIL FILE…`: queues a fax without an email. The same intake as the console's
 * send page (jobs/queueUploads.ts) and the same checks as SMTP: number policy, the sender's `senders` entry, each
 * file recognised by its bytes and converted or prepared as a mailed document would be (docs/behaviour.md §10),
 * several merged in the order given. The job is stored exactly as an accepted message's would be; the running
 * daemon's workers pick it up and the receipts go to EMAIL.
 */
export const sendCommand: Command = {
  name: 'send',
  summary: 'queue a fax of documents without an email (receipts go to the --as address)',
  help: `Usage: faxbridge send --to NUMBER [--to NUMBER…] --as EMAIL [--config FILE] FILE [FILE…]

Queues the FILEs as one fax for each NUMBER, as if EMAIL had emailed them: EMAIL must be allowed by \`senders\`
(anyone in sandbox mode) and sends from its from_number; receipts go to EMAIL. Each FILE may be anything a
mail may carry: a PDF, a photo, a TIFF scan, a .txt file, an Office file (with documents.office), a
winmail.dat; several become one fax in the order given. Numbers are read as in email addresses (national
numbers of smtp.default_country are fine) and must be allowed by smtp.allowed_countries and
blocked_prefixes. The running daemon sends the job; without one it waits in the queue until \`start\`.

Prints "Queued <job-id> <+E164>" per number. Exit codes: 0 queued, 1 refused (number, sender, document,
configuration), 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(
      args,
      { ...CONFIG_OPTION, to: { type: 'string', multiple: true }, as: { type: 'string' } },
      { min: 1, max: MAX_FILES },
    );
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const targets = listOption(parsed, 'to');
    const sender = stringOption(parsed, 'as')?.trim().toLowerCase();
    if (targets.length === 0) throw new UsageError('--to NUMBER is required');
    if (!sender) throw new UsageError('--as EMAIL is required');

    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      const uploads = await readFiles(parsed.positionals, config.smtp.max_message_size);
      const documents = await openDocuments(config);
      const intake = makeUploadIntake({ config, store, documents, now: Date.now, log: makeSilentLogger() });
      const jobs = await asProblem(intake({ sender, targets, uploads, subject: null, origin: 'cli' }));
      for (const job of jobs) io.out(`Queued ${job.id} ${job.to_number}`);
      return EXIT.ok;
    });
  },
};

/**
 * The operator's files, read as they are (never moved: the intake works on its own copies). The bound is the
 * one mail has (smtp.max_message_size): a file no office could email is not read into memory either.
 */
async function readFiles(files: string[], maxBytes: number): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const file of files) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new ProblemError(`cannot read ${file}`);
    if (info.size > maxBytes) {
      throw new ProblemError(
        `${file} is ${formatBytes(info.size)}, more than smtp.max_message_size (${formatBytes(maxBytes)})`,
      );
    }
    // Only a text file is told apart by its name (as a mail's declared type would); all else by its bytes.
    const type = /\.txt$/i.test(file) ? 'text/plain' : 'application/octet-stream';
    uploads.push({ name: path.basename(file), type, bytes: await readFile(file) });
  }
  return uploads;
}
