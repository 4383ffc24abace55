/**
 * `faxbridge simulate inbound --from +E164 --to +E164 [--pages N] [--partial] [--fail REASON] [--config FILE]`
 * (product.md §1): asks the running sandbox daemon's simulator to deliver an incoming fax, exactly as Telnyx
 * would (fax.receiving.started, fax.media.processing.started, fax.received with an expiring media link).
 */
import { request } from 'undici';

import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { coerceError } from '../errors.js';
import { SECOND } from '../lib/units.js';
import { readSimulatorInfo, simulatorInfoPath } from './simulatorInfo.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const EXIT = { ok: 0, problems: 1, usage: 2 } as const;
const E164 = /^\+[1-9]\d{7,14}$/;
const MAX_PAGES = 350;
const REQUEST_TIMEOUT_MS = 10 * SECOND;

export const SIMULATE_USAGE = `Usage: faxbridge simulate inbound --from +E164 --to +E164 [--pages N] [--partial]
                                  [--fail REASON] [--config FILE]

Makes the running sandbox daemon receive a fax from --from on --to (one of "your" numbers; it is routed
by the inbound config, or to inbox@<first fax domain> when there are no routes). --partial flags it as
partially received; --fail makes it fail with a Telnyx failure_reason such as sender_call_dropped.`;

interface InboundArgs {
  from: string;
  to: string;
  pages: number;
  partial: boolean;
  failWith: string | null;
  configFile: string | null;
}

export async function simulateCommand(args: string[], io: CliIo): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    (args.length === 0 ? io.err : io.out)(SIMULATE_USAGE);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const [what, ...rest] = args;
  if (what !== 'inbound') {
    io.err(`faxbridge simulate: unknown simulation "${what}"\n\n${SIMULATE_USAGE}`);
    return EXIT.usage;
  }
  const parsed = parseInboundArgs(rest);
  if (typeof parsed === 'string') {
    io.err(`faxbridge simulate inbound: ${parsed}\n\n${SIMULATE_USAGE}`);
    return EXIT.usage;
  }

  let dataDir: string;
  try {
    const { config } = loadConfig(parsed.configFile ?? process.env.FAXBRIDGE_CONFIG ?? null);
    if (!config.sandbox) {
      io.err('faxbridge simulate: only in sandbox mode (this configuration has a Telnyx API key)');
      return EXIT.problems;
    }
    dataDir = config.data_dir;
  } catch (error) {
    if (error instanceof ConfigError) for (const p of error.problems) io.err(`${p.key}: ${p.message}`);
    else io.err(coerceError(error).message);
    return EXIT.problems;
  }

  const info = await readSimulatorInfo(dataDir);
  if (!info) {
    io.err(
      `faxbridge simulate: no running sandbox daemon found (${simulatorInfoPath(dataDir)} is missing); ` +
        'start one with "faxbridge start" using the same configuration',
    );
    return EXIT.problems;
  }
  return postInbound(info.origin, info.webhookUrl, parsed, io);
}

async function postInbound(
  origin: string,
  webhookUrl: string,
  args: InboundArgs,
  io: CliIo,
): Promise<number> {
  const body = {
    from: args.from,
    to: args.to,
    pages: args.pages,
    partial: args.partial,
    webhookUrl,
    ...(args.failWith ? { failWith: args.failWith } : {}),
  };
  let status: number;
  let text: string;
  try {
    const response = await request(`${origin}/_sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    io.err(
      `faxbridge simulate: the sandbox simulator at ${origin} did not answer (${coerceError(error).message}); ` +
        'is the daemon still running?',
    );
    return EXIT.problems;
  }
  if (status !== 202) {
    io.err(`faxbridge simulate: the simulator refused (${status}): ${errorDetail(text)}`);
    return EXIT.problems;
  }
  const faxId = (JSON.parse(text) as { data?: { id?: string } }).data?.id ?? '(unknown id)';
  const pages = `${args.pages} page${args.pages === 1 ? '' : 's'}`;
  const outcome = args.failWith ? `, failing with ${args.failWith}` : args.partial ? ', partial' : '';
  io.out(`Incoming fax ${faxId} from ${args.from} to ${args.to} (${pages}${outcome}) is on its way.`);
  return EXIT.ok;
}

function parseInboundArgs(args: string[]): InboundArgs | string {
  const result: InboundArgs = {
    from: '',
    to: '',
    pages: 1,
    partial: false,
    failWith: null,
    configFile: null,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    if (flag === '--partial') {
      result.partial = true;
      continue;
    }
    const value = args[i + 1];
    if (!['--from', '--to', '--pages', '--fail', '--config'].includes(flag)) return `unknown option ${flag}`;
    if (value === undefined || value.startsWith('--')) return `${flag} needs a value`;
    i++;
    if (flag === '--from') result.from = value;
    else if (flag === '--to') result.to = value;
    else if (flag === '--fail') result.failWith = value;
    else if (flag === '--config') result.configFile = value;
    else if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGES) {
      return `--pages must be a whole number from 1 to ${MAX_PAGES}`;
    } else result.pages = Number(value);
  }
  if (!E164.test(result.from)) return '--from must be an E.164 number such as +15551234567';
  if (!E164.test(result.to)) return '--to must be an E.164 number such as +15557654321';
  return result;
}

function errorDetail(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ detail?: string; title?: string }> }).errors;
    const first = errors?.[0];
    if (first) return first.detail ?? first.title ?? text;
  } catch {
    // not JSON: show it as it came
  }
  return text.slice(0, 200);
}
