import type { Dispatcher } from 'undici';

import type { Config } from '../../config/loadConfig.js';
import { startSimulator } from '../../simulator/index.js';
import { checkDatabase, checkDataDir, checkPublicKey, checkStorage, checkTools } from './localChecks.js';
import { checkPublicUrl } from './publicUrlCheck.js';
import { checkRelay } from './relayCheck.js';
import type { CheckResult } from './report.js';
import { checkTelnyx, type TelnyxTarget } from './telnyxChecks.js';

export interface DoctorOptions {
  /** For requests to Telnyx and to public_url (tests trust their own certificate authority through it). */
  dispatcher?: Dispatcher;
}

/** The Fax Application id the sandbox's simulator has when the config names none. */
const SANDBOX_CONNECTION_ID = 'sandbox-fax-app';

/**
 * Every check, in the order a set-up is built: local state first, then Telnyx, the public URL and the relay.
 * In sandbox mode the Telnyx checks run against a simulator started here for the purpose.
 */
export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(await checkDataDir(config));
  results.push(await checkDatabase(config));
  results.push(await checkStorage(config));
  results.push(checkPublicKey(config));
  results.push(...(await checkTelnyxAccount(config, options)));
  results.push(...(await checkPublicUrl(config, options.dispatcher)));
  results.push(await checkRelay(config));
  results.push(...(await checkTools()));
  return results;
}

async function checkTelnyxAccount(config: Config, options: DoctorOptions): Promise<CheckResult[]> {
  const fromNumbers = distinctSenderNumbers(config);
  if (!config.sandbox) {
    const target: TelnyxTarget = {
      apiUrl: config.telnyx.api_url.replace(/\/+$/, ''),
      apiKey: config.telnyx.api_key!,
      connectionId: config.telnyx.connection_id ?? '',
      fromNumbers,
      keySource: process.env.TELNYX_API_KEY ? 'TELNYX_API_KEY' : 'telnyx.api_key',
      dispatcher: options.dispatcher,
    };
    return checkTelnyx(target);
  }
  const connectionId = config.telnyx.connection_id ?? SANDBOX_CONNECTION_ID;
  const simulator = await startSimulator({ connectionId });
  try {
    const results = await checkTelnyx({
      apiUrl: simulator.url,
      apiKey: 'sandbox',
      connectionId,
      fromNumbers,
      keySource: 'telnyx.api_key',
    });
    return results.map((result) => ({
      ...result,
      detail: `${result.detail} (sandbox: the built-in simulator)`,
    }));
  } finally {
    await simulator.close();
  }
}

function distinctSenderNumbers(config: Config): Array<{ key: string; number: string }> {
  const seen = new Set<string>();
  const numbers: Array<{ key: string; number: string }> = [];
  config.senders.forEach((sender, index) => {
    if (seen.has(sender.from_number)) return;
    seen.add(sender.from_number);
    numbers.push({ key: `senders[${index}].from_number`, number: sender.from_number });
  });
  return numbers;
}
