import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

import type { Config } from '../config/loadConfig.js';
import { describeFailure } from '../domain/failureReasons.js';
import { type JobHistory, loadJobHistory } from '../jobs/jobHistory.js';
import { formatBytes } from '../lib/units.js';
import type { JobStore } from '../store/jobStore.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs } from './args.js';
import { formatFields, formatTable, formatTime, printableJson } from './format.js';
import { type CliIo, type Command, EXIT, ProblemError } from './io.js';
import { openDocuments, withStore } from './offline.js';

/** `faxbridge job ID`: everything recorded about one job, for answering "what happened to my fax?". */
export const jobCommand: Command = {
  name: 'job',
  summary: 'show one job: attempts, Telnyx events, receipts',
  help: `Usage: faxbridge job ID [--json] [--pdf FILE] [--config FILE]

Shows one fax job: its state, the message and document it came from, every attempt placed with Telnyx, the
webhook events recorded for those faxes, the receipts and notices queued for it, and the other jobs of the
same message (other recipients, retries). --json prints the same as one JSON object. --pdf FILE writes the
PDF that was transmitted (cover page, header lines, document): what the recipient got.

Exit codes: 0 shown, 1 no such job (or a configuration problem), 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(
      args,
      { ...CONFIG_OPTION, json: { type: 'boolean' }, pdf: { type: 'string' } },
      { min: 1, max: 1 },
    );
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const id = parsed.positionals[0]!;
    return withStore(configFileOf(parsed), io, async ({ config, store }) => {
      const history = await loadHistory(store, id);
      const pdfFile = parsed.values.pdf;
      if (typeof pdfFile === 'string') await writeTransmitted(config, store, id, pdfFile);
      if (parsed.values.json) io.out(printableJson(JSON.stringify(history, null, 2)));
      else printHistory(io, history);
      return EXIT.ok;
    });
  },
};

/** Copies the job's transmitted PDF out of storage; a problem when the job has none (yet) or it was deleted. */
async function writeTransmitted(config: Config, store: JobStore, id: string, file: string): Promise<void> {
  const sent = await store.getTransmittedDocument(id);
  if (!sent)
    throw new ProblemError(`job ${id} has no transmitted PDF yet (it is built before the first attempt)`);
  if (sent.deleted_at !== null)
    throw new ProblemError(`the transmitted PDF of job ${id} was deleted by retention`);
  const documents = await openDocuments(config);
  const { stream } = await documents.openRead(sent.storage_key);
  await pipeline(stream, createWriteStream(file));
}

async function loadHistory(store: JobStore, id: string): Promise<JobHistory> {
  const history = await loadJobHistory(store, id);
  if (!history) throw new ProblemError(`no job ${id}`);
  return history;
}

function printHistory(io: CliIo, history: JobHistory): void {
  const { job, message, document, attempts, events, outbox, related } = history;
  io.out(`Job ${job.id}`);
  const failure = job.failure_reason ? describeFailure(job.failure_reason) : null;
  for (const line of formatFields([
    ['status', job.status],
    ['to', job.to_number],
    ['from', job.from_number],
    ['sender', job.sender],
    ['attempts', `${job.attempt} of ${job.max_attempts}`],
    ['accepted', formatTime(job.created_at)],
    ['next run', job.run_at === null ? null : formatTime(job.run_at)],
    ['finished', job.finished_at === null ? null : formatTime(job.finished_at)],
    ['pages sent', job.pages_sent],
    ['failure', failure ? `${job.failure_reason} (${failure.short})` : null],
    ['detail', job.failure_detail],
    ['last error', job.status === 'queued' || job.status === 'placed' ? job.last_error : null],
    ['lease', job.lease_owner ? `${job.lease_owner} until ${formatTime(job.lease_until)}` : null],
  ])) {
    io.out(line);
  }
  if (message) {
    io.out('\nMessage');
    for (const line of formatFields([
      ['received', formatTime(message.received_at)],
      ['subject', message.subject],
      ['message-id', message.message_id],
      ['session', message.session_id],
    ])) {
      io.out(line);
    }
  }
  if (document) {
    io.out('\nDocument');
    for (const line of formatFields([
      ['file', document.filename],
      ['pages', document.pages],
      ['size', formatBytes(document.size)],
      ['deleted', document.deleted_at === null ? null : formatTime(document.deleted_at)],
    ])) {
      io.out(line);
    }
  }
  section(
    io,
    'Attempts',
    ['#', 'STATE', 'FAX', 'STATUS', 'STARTED', 'ENDED', 'PAGES', 'REASON'],
    attempts.map((a) => [
      String(a.attempt),
      a.state,
      a.fax_id ?? '-',
      a.fax_status ?? '-',
      formatTime(a.started_at),
      formatTime(a.ended_at),
      a.pages === null ? '-' : String(a.pages),
      a.failure_reason ?? '',
    ]),
  );
  section(
    io,
    'Events',
    ['OCCURRED', 'TYPE', 'FAX', 'OUTCOME', 'REASON'],
    events.map((e) => [
      e.occurred_at ?? formatTime(e.received_at),
      e.event_type,
      e.fax_id ?? '-',
      e.outcome ?? '(not processed yet)',
      e.failure_reason ?? '',
    ]),
  );
  section(
    io,
    'Mails',
    ['KIND', 'STATUS', 'TRIES', 'QUEUED', 'SENT', 'ERROR'],
    outbox.map((row) => [
      row.kind,
      row.status,
      String(row.attempts),
      formatTime(row.created_at),
      formatTime(row.sent_at),
      row.last_error ?? '',
    ]),
  );
  section(
    io,
    'Same message',
    ['JOB', 'STATUS', 'TO', 'ACCEPTED'],
    related.map((other) => [other.id, other.status, other.to_number, formatTime(other.created_at)]),
  );
}

function section(io: CliIo, title: string, header: string[], rows: string[][]): void {
  if (rows.length === 0) return;
  io.out(`\n${title}`);
  for (const line of formatTable(header, rows)) io.out(`  ${line}`);
}
