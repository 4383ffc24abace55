import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { inspectPdf } from '../documents/inspectPdf.js';
import { checkFaxNumber } from '../domain/phoneNumber.js';
import { findSender } from '../domain/senders.js';
import { newId } from '../lib/ids.js';
import { CONFIG_OPTION, configFileOf, listOption, parseCommandArgs, stringOption } from './args.js';
import { type Command, EXIT, ProblemError, UsageError } from './io.js';
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
      const rule = findSender(config.senders, sender, config.sandbox);
      if (!rule) throw new ProblemError(`${sender} is not allowed to send faxes (no matching senders entry)`);
      const policy = {
        defaultCountry: config.smtp.default_country,
        allowedCountries: config.smtp.allowed_countries,
        blockedPrefixes: config.smtp.blocked_prefixes,
      };
      const numbers: string[] = [];
      for (const target of targets) {
        const verdict = checkFaxNumber(target, policy);
        if (!verdict.ok) throw new ProblemError(verdict.reason);
        if (!numbers.includes(verdict.e164)) numbers.push(verdict.e164);
      }

      await stat(file).catch(() => {
        throw new ProblemError(`cannot read ${file}`);
      });
      const inspected = await inspectPdf(file);
      if (!inspected.ok) throw new ProblemError(`${path.basename(file)} ${inspected.problem}`);

      // Storage moves the file it is given; hand it a copy in data_dir, never the operator's own file.
      const workDir = path.join(config.data_dir, 'tmp');
      await mkdir(workDir, { recursive: true });
      const copy = path.join(workDir, `send-${randomBytes(6).toString('hex')}.pdf`);
      try {
        await copyFile(file, copy);
        const bytes = await readFile(copy);
        const documentId = newId('doc');
        const storageKey = `${documentId}.pdf`;
        const documents = await openDocuments(config);
        await documents.put(storageKey, copy, 'application/pdf');
        const now = Date.now();
        const messageId = newId('msg');
        const jobs = await store.acceptMessage(
          {
            document: {
              id: documentId,
              storage_key: storageKey,
              sha256: createHash('sha256').update(bytes).digest('hex'),
              size: bytes.length,
              pages: inspected.pages,
              filename: path.basename(file),
              created_at: now,
            },
            message: {
              id: messageId,
              sender,
              sender_name: null,
              envelope_from: null,
              message_id: null,
              subject: null,
              references_json: '[]',
              document_id: documentId,
              session_id: 'cli',
              received_at: now,
            },
            jobs: numbers.map((to) => ({ id: newId('fx'), to_number: to, from_number: rule.fromNumber })),
            max_attempts: config.retry.max_attempts,
            accepted_receipt: config.receipts.on_accepted,
          },
          now,
        );
        for (const job of jobs) io.out(`Queued ${job.id} ${job.to_number}`);
        return EXIT.ok;
      } finally {
        await rm(copy, { force: true });
      }
    });
  },
};
