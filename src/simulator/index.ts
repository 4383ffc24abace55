import { randomUUID } from 'node:crypto';

import pino from 'pino';
import { Agent } from 'undici';

import { SECOND } from '../lib/units.js';
import { makeActivityTracker } from './activity.js';
import { handleControl } from './controlRoutes.js';
import { makeFaxStore } from './faxStore.js';
import { type InboundDeps, startInboundFax } from './inbound.js';
import { makeInjectionQueue } from './injections.js';
import { TELNYX_MAX_MEDIA_BYTES, TELNYX_MAX_PAGES } from './mediaFetch.js';
import { makeMediaVault } from './mediaVault.js';
import type { OutboundDeps } from './outbound.js';
import { makeOutcomePlanner } from './outcomes.js';
import { makeApiPacing } from './pacing.js';
import { seedFaxes } from './seedFaxes.js';
import { startSimServer } from './server.js';
import { makeSigner } from './signer.js';
import type { SimFax, Simulator, SimulatorOptions } from './types.js';
import { makeWebhookDispatcher } from './webhooks.js';

export { describeMagicNumbers, MAGIC_NUMBERS, type MagicNumber, type MagicOutcome } from './magicNumbers.js';
export type { RateLimitOptions } from './pacing.js';
export type {
  FaxDirection,
  FaxSeed,
  FaxStatus,
  InboundOptions,
  InjectedResponse,
  SimDelivery,
  SimEvent,
  SimFax,
  SimRequest,
  Simulator,
  SimulatorOptions,
  WebhookMode,
} from './types.js';

/** Tests want quick lifecycles; sandbox mode passes about a second so a person can follow the log. */
const DEFAULT_STEP_MS = 50;
/** Telnyx waits 2000 ms for a webhook answer (docs/telnyx.md §6). */
const DEFAULT_WEBHOOK_TIMEOUT_MS = 2 * SECOND;
const DEFAULT_FETCH_TIMEOUT_MS = 30 * SECOND;
const DEFAULT_CONNECTION_ID = 'sim-fax-app';
const DEFAULT_OUTBOUND_VOICE_PROFILE_ID = 'sim-outbound-profile';

/**
 * Starts a Telnyx Programmable Fax stand-in on its own HTTP port: the daemon points `telnyx.api_url` at
 * `url` and `telnyx.public_key` at `publicKey`, and cannot tell the difference (sandbox mode, every test).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock = options.clock ?? Date.now;
  // The caller names the component (main.ts passes a `component: 'simulator'` child).
  const log = options.log ?? pino({ level: 'silent' });
  const stepMs = options.timing?.stepMs ?? DEFAULT_STEP_MS;
  const tracker = makeActivityTracker();
  // One connection pool for media fetches and webhooks, closed with the simulator so no socket outlives it.
  const dispatcher = new Agent({ keepAliveTimeout: SECOND, connections: 32 });
  const signer = makeSigner(options.signingSeed);
  const store = makeFaxStore(clock);
  const userId = randomUUID();
  const defaultWebhookUrl = options.defaultWebhookUrl ?? null;
  let origin = '';
  const vault = makeMediaVault(clock, () => origin);
  const webhooks = makeWebhookDispatcher({
    signer,
    dispatcher,
    tracker,
    clock,
    log,
    timeoutMs: options.timing?.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    retryDelaysMs: options.timing?.webhookRetryDelaysMs ?? [4 * stepMs, 20 * stepMs],
  });
  const outbound: OutboundDeps = {
    store,
    planner: makeOutcomePlanner(),
    webhooks,
    tracker,
    dispatcher,
    log,
    clock,
    userId,
    stepMs,
    fetchTimeoutMs: options.timing?.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    maxBytes: options.limits?.maxBytes ?? TELNYX_MAX_MEDIA_BYTES,
    maxPages: options.limits?.maxPages ?? TELNYX_MAX_PAGES,
    defaultWebhookUrl,
  };
  const inbound: InboundDeps = {
    store,
    webhooks,
    tracker,
    vault,
    log,
    clock,
    userId,
    stepMs,
    connectionId: options.connectionId ?? DEFAULT_CONNECTION_ID,
    defaultWebhookUrl,
  };
  const injections = makeInjectionQueue();
  const pacing = makeApiPacing(clock, options.timing?.apiLatencyMs ?? 0);
  const server = await startSimServer(
    {
      routes: {
        store,
        outbound,
        inbound,
        connectionId: options.connectionId,
        account: {
          connectionId: options.connectionId ?? DEFAULT_CONNECTION_ID,
          phoneNumbers: options.phoneNumbers ?? null,
          outboundVoiceProfileId:
            options.outboundVoiceProfileId === undefined
              ? DEFAULT_OUTBOUND_VOICE_PROFILE_ID
              : options.outboundVoiceProfileId,
        },
      },
      injections,
      pacing,
      tracker,
      apiKey: options.apiKey,
      clock,
      log,
      extra: (request) => handleControl({ store, vault, inbound }, request),
    },
    options.host ?? '127.0.0.1',
    options.port ?? 0,
  );
  origin = server.origin;
  log.info({ url: `${origin}/v2` }, 'telnyx simulator listening');

  const snapshot = (fax: SimFax): SimFax => structuredClone(fax);
  let closed = false;
  return {
    url: `${origin}/v2`,
    publicKey: signer.publicKey,
    faxes: () => store.all().map((record) => snapshot(record.fax)),
    requests: () => server.requests(),
    deliveries: () => webhooks.deliveries(),
    failNumber: (to, failureReasons) => outbound.planner.failNumber(to, failureReasons),
    injectResponses: (path, responses) => injections.add(path, responses),
    setApiLatency: (ms) => pacing.setLatency(ms),
    rateLimit: (forMs, rateOptions) => pacing.rateLimit(forMs, rateOptions),
    peakConcurrency: (key) => pacing.peakConcurrency(key),
    seedFaxes: (seed) => seedFaxes(store, seed).map((record) => snapshot(record.fax)),
    webhookMode: (mode) => webhooks.setMode(mode),
    sendInbound: async (inboundOptions) => snapshot((await startInboundFax(inbound, inboundOptions)).fax),
    waitForIdle: () => tracker.idle(),
    async close() {
      if (closed) return;
      closed = true;
      tracker.stop();
      await server.close();
      await tracker.idle();
      await dispatcher.close();
    },
  };
}
