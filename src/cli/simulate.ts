/**
 * `faxbridge simulate inbound --from +E164 --to +E164 [--pages N] [--partial] [--fail REASON]`
 * (docs/behaviour.md §1): asks the running sandbox daemon's simulator to deliver an incoming fax exactly as
 * Telnyx would (fax.receiving.started, fax.media.processing.started, fax.received with an expiring media
 * link). The daemon is found through `<data_dir>/simulator.json`, which `start` writes in sandbox mode.
 */
import { request } from 'undici';

import { coerceError } from '../errors.js';
import { SECOND } from '../lib/units.js';
import { readSimulatorInfo, type SimulatorInfo, simulatorInfoPath } from '../simulator/simulatorInfo.js';
import { CONFIG_OPTION, configFileOf, parseCommandArgs, stringOption } from './args.js';
import { type CliIo, type Command, EXIT, ProblemError, UsageError } from './io.js';
import { loadConfigOrExplain } from './offline.js';

const E164 = /^\+[1-9]\d{7,14}$/;
const MAX_PAGES = 350;
const REQUEST_TIMEOUT_MS = 10 * SECOND;

interface InboundRequest {
  from: string;
  to: string;
  pages: number;
  partial: boolean;
  failWith: string | null;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'sandbox: make the running daemon receive a fax (simulate inbound --from … --to …)',
  help: `Usage: faxbridge simulate inbound --from +E164 --to +E164 [--pages N] [--partial] [--fail REASON]
                                  [--config FILE]

Sandbox mode only. The running daemon's built-in Telnyx simulator delivers a fax from --from to --to (one of
"your" numbers): it is routed by \`inbound\` (or goes to inbox@<first fax domain> when there are no routes)
and lands as an email. --pages sets its length (default 1, at most ${MAX_PAGES}); --partial flags it as
partially received; --fail makes it fail with that Telnyx failure_reason (e.g. sender_call_dropped).

Prints the simulated fax's id. Exit codes: 0 on its way, 1 no sandbox daemon running (or it refused),
2 usage.`,

  async run(args, io) {
    const parsed = parseCommandArgs(
      args,
      {
        ...CONFIG_OPTION,
        from: { type: 'string' },
        to: { type: 'string' },
        pages: { type: 'string' },
        partial: { type: 'boolean' },
        fail: { type: 'string' },
      },
      { min: 1, max: 1 },
    );
    if (parsed.help) {
      io.out(this.help);
      return EXIT.ok;
    }
    if (parsed.positionals[0] !== 'inbound') {
      throw new UsageError(`unknown simulation "${parsed.positionals[0]}" (only "inbound" exists)`);
    }
    const from = stringOption(parsed, 'from') ?? '';
    const to = stringOption(parsed, 'to') ?? '';
    const pagesText = stringOption(parsed, 'pages') ?? '1';
    if (!E164.test(from)) throw new UsageError('--from must be an E.164 number such as +15557654321');
    if (!E164.test(to)) throw new UsageError('--to must be an E.164 number such as +15550001111');
    if (!/^\d+$/.test(pagesText) || Number(pagesText) < 1 || Number(pagesText) > MAX_PAGES) {
      throw new UsageError(`--pages must be a whole number from 1 to ${MAX_PAGES}`);
    }

    const config = loadConfigOrExplain(configFileOf(parsed), io);
    if (!config.sandbox) {
      throw new ProblemError('only in sandbox mode (this configuration has a Telnyx API key)');
    }
    const info = await readSimulatorInfo(config.data_dir);
    if (!info) {
      throw new ProblemError(
        `no running sandbox daemon found (${simulatorInfoPath(config.data_dir)} is missing); ` +
          'start one with "faxbridge start" and the same configuration',
      );
    }
    const fax = {
      from,
      to,
      pages: Number(pagesText),
      partial: parsed.values.partial === true,
      failWith: stringOption(parsed, 'fail') ?? null,
    };
    return postInbound(info, fax, io);
  },
};

/** `POST /_sim/inbound` on the simulator (simulator/controlRoutes.ts), naming the daemon's webhook. */
async function postInbound(info: SimulatorInfo, fax: InboundRequest, io: CliIo): Promise<typeof EXIT.ok> {
  const body = {
    from: fax.from,
    to: fax.to,
    pages: fax.pages,
    partial: fax.partial,
    webhookUrl: info.webhookUrl,
    ...(fax.failWith ? { failWith: fax.failWith } : {}),
  };
  let status: number;
  let text: string;
  try {
    const response = await request(`${info.origin}/_sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    throw new ProblemError(
      `the sandbox simulator at ${info.origin} did not answer (${coerceError(error).message}); ` +
        'is the daemon still running?',
    );
  }
  if (status !== 202) throw new ProblemError(`the simulator refused (${status}): ${errorDetail(text)}`);
  const faxId = (JSON.parse(text) as { data?: { id?: string } }).data?.id ?? '(unknown id)';
  const pages = `${fax.pages} page${fax.pages === 1 ? '' : 's'}`;
  const outcome = fax.failWith ? `, failing with ${fax.failWith}` : fax.partial ? ', partial' : '';
  io.out(`Incoming fax ${faxId} from ${fax.from} to ${fax.to} (${pages}${outcome}) is on its way.`);
  return EXIT.ok;
}

function errorDetail(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ detail?: string; title?: string }> }).errors;
    const first = errors?.[0];
    if (first) return first.detail ?? first.title ?? text;
  } catch {
    // not JSON: shown as it came
  }
  return text.slice(0, 200);
}
