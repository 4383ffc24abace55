import { freePort } from '../../test/helpers/freePort.js';
import { type DaemonChild, startDaemonChild } from './daemonChild.js';
import { SIMULATOR_API_KEY, type SimulatorChild, startSimulatorChild } from './simulatorChild.js';

/**
 * How Telnyx is stood in for during a benchmark:
 * - `sandbox`: `faxbridge start` with no API key, exactly what `npm start` runs: the built-in simulator lives
 *   in the daemon's process, so its media fetches, PDF parsing and webhook signing count as daemon work.
 * - `external`: production mode against a simulator in another process, as with real Telnyx, where the
 *   daemon only answers the media fetch and verifies the webhooks.
 */
export type TelnyxMode = 'sandbox' | 'external';

export interface FaxbridgeUnderTest {
  daemon: DaemonChild;
  simulator: SimulatorChild | null;
  stop(): Promise<void>;
}

export const BENCH_SENDER = 'sender@example.com';

export async function startFaxbridge(options: {
  mode: TelnyxMode;
  dataDir: string;
  yaml?: string;
  /** Settings for the daemon as environment variables (FAXBRIDGE_SMTP__MAX_MESSAGE_SIZE=80MB). */
  env?: Record<string, string>;
  /** Simulator pace for `external`; sandbox mode always uses main.ts's 1000 ms. */
  stepMs?: number;
  /** Node flags for the daemon, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}): Promise<FaxbridgeUnderTest> {
  if (options.mode === 'sandbox') {
    const daemon = await startDaemonChild({
      dataDir: options.dataDir,
      yaml: options.yaml,
      env: options.env,
      nodeArgs: options.nodeArgs,
    });
    return { daemon, simulator: null, stop: () => daemon.stop() };
  }
  const simulator = await startSimulatorChild(options.stepMs ?? 1000);
  const httpPort = await freePort();
  const daemon = await startDaemonChild({
    dataDir: options.dataDir,
    httpPort,
    nodeArgs: options.nodeArgs,
    yaml: [
      options.yaml ?? '',
      // Production's per-sender default (60 faxes an hour) would refuse a benchmark; sandbox has no limits either.
      'limits:',
      '  faxes_per_hour: 0',
      '  pages_per_day: 0',
      'senders:',
      `  - match: '*@example.com'`,
      `    from_number: '+15550002222'`,
    ].join('\n'),
    env: {
      TELNYX_API_URL: simulator.url,
      TELNYX_API_KEY: SIMULATOR_API_KEY,
      TELNYX_PUBLIC_KEY: simulator.publicKey,
      TELNYX_CONNECTION_ID: '1',
      FAXBRIDGE_HTTP__PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      ...options.env,
    },
  });
  return {
    daemon,
    simulator,
    async stop() {
      await daemon.stop();
      await simulator.stop();
    },
  };
}
