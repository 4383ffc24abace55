import type { JobStatus } from '../store/jobStore.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs, stringOption } from './args.js';
import { formatTable, formatTime, printableJson } from './format.js';
import { type Command, EXIT, UsageError } from './io.js';
import { withStore } from './offline.js';

const STATUSES: readonly JobStatus[] = ['queued', 'placed', 'delivered', 'failed', 'canceled'];
const DEFAULT_LIMIT = 50;

/** `faxbridge jobs [--status S]`: the newest jobs first, one line each. */
export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list fax jobs, newest first',
  help: `Usage: faxbridge jobs [--status STATUS] [--limit N] [--json] [--config FILE]

Lists fax jobs, newest first (${DEFAULT_LIMIT} unless --limit). STATUS is one of ${STATUSES.join(', ')}:
queued (waiting to be sent or to be retried), placed (Telnyx has it), then one of the final three.
--json prints one JSON object per line (the stored row) instead of the table.

Exit codes: 0 listed (possibly nothing), 1 configuration or database problem, 2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(
      args,
      { ...CONFIG_OPTION, status: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
      { min: 0, max: 0 },
    );
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    const status = stringOption(parsed, 'status');
    if (status !== undefined && !STATUSES.includes(status as JobStatus)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    }
    const limitText = stringOption(parsed, 'limit') ?? String(DEFAULT_LIMIT);
    if (!/^[1-9]\d{0,5}$/.test(limitText)) throw new UsageError('--limit must be a positive whole number');

    return withStore(configFileOf(parsed), io, async ({ store }) => {
      const jobs = await store.listJobs({
        status: status as JobStatus | undefined,
        limit: Number(limitText),
      });
      if (parsed.values.json) {
        for (const job of jobs) io.out(printableJson(JSON.stringify(job)));
        return EXIT.ok;
      }
      if (jobs.length === 0) {
        io.out(status ? `No ${status} jobs.` : 'No jobs.');
        return EXIT.ok;
      }
      const rows = jobs.map((job) => [
        job.id,
        job.status,
        job.to_number,
        job.sender,
        `${job.attempt}/${job.max_attempts}`,
        formatTime(job.created_at),
        job.failure_reason ?? '',
      ]);
      for (const line of formatTable(
        ['JOB', 'STATUS', 'TO', 'SENDER', 'TRIES', 'ACCEPTED', 'REASON'],
        rows,
      )) {
        io.out(line);
      }
      return EXIT.ok;
    });
  },
};
