import type { Config } from './config/loadConfig.js';
import { type Daemon, type DaemonOptions, startDaemon } from './daemon.js';
import { coerceError } from './errors.js';
import { makePrivateDir } from './lib/privateFiles.js';
import { MINUTE } from './lib/units.js';
import type { Logger } from './log.js';
import type { Simulator } from './simulator/index.js';
import { removeSimulatorInfo, writeSimulatorInfo } from './simulator/simulatorInfo.js';

export interface Running {
  daemon: Daemon;
  simulator: Simulator | null;
  stop(): Promise<void>;
}

/**
 * Starts faxbridge: in sandbox mode the built-in Telnyx simulator first (it stands in for the API and signs
 * webhooks with its own key), then the daemon. Owns nothing global; signals are the CLI's business.
 * `testKnobs` are the daemon's test-only options a test may set on a real daemon process (see cli/start.ts).
 */
export async function run(
  config: Config,
  log: Logger,
  testKnobs: Pick<DaemonOptions, 'leaseMs'> = {},
): Promise<Running> {
  await makePrivateDir(config.data_dir);
  let simulator: Simulator | null = null;
  if (config.sandbox) {
    // Loaded only in sandbox mode: the simulator (its routes, signer, PDF reader) is ~25 MB of RSS that a
    // production daemon would carry unused (bench/idleRss.ts).
    const { describeMagicNumbers, startSimulator } = await import('./simulator/index.js');
    simulator = await startSimulator({
      log: log.child({ component: 'simulator' }),
      timing: { stepMs: 1000 },
      // Inbound faxes (`faxbridge simulate inbound`) post their events here, as a Fax Application's webhook.
      defaultWebhookUrl: `${config.http.public_url}/webhooks/telnyx`,
    });
    log.warn(
      {
        simulator: simulator.url,
        smtp: config.smtp.listen,
        http: config.http.listen,
        domains: config.smtp.domains,
      },
      'sandbox mode: no Telnyx API key, so no real fax leaves this machine; the built-in simulator answers instead',
    );
    log.info({ numbers: describeMagicNumbers() }, 'sandbox: these destination numbers fail on purpose');
  }
  const daemon = await startDaemon({
    ...testKnobs,
    config,
    log,
    telnyx: simulator ? { apiUrl: simulator.url, apiKey: '', publicKey: simulator.publicKey } : undefined,
  });
  if (simulator) {
    // `faxbridge simulate inbound` runs in another process and finds the simulator through this file.
    await writeSimulatorInfo(config.data_dir, {
      origin: new URL(simulator.url).origin,
      webhookUrl: `${daemon.config.http.public_url}/webhooks/telnyx`,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
  }
  log.info(
    { smtp: daemon.smtp.address(), http: daemon.http.url, mode: config.sandbox ? 'sandbox' : 'production' },
    'faxbridge started',
  );
  return {
    daemon,
    simulator,
    async stop() {
      try {
        await daemon.stop(Math.min(config.shutdown_grace, 10 * MINUTE));
      } catch (error) {
        log.error({ err: coerceError(error) }, 'error while stopping');
      }
      if (simulator) await removeSimulatorInfo(config.data_dir).catch(() => undefined);
      await simulator?.close();
    },
  };
}
