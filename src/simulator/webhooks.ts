import { type Dispatcher, request } from 'undici';

import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ActivityTracker } from './activity.js';
import { isFinalEvent } from './events.js';
import { unixSeconds, type WebhookSigner } from './signer.js';
import type { SimDelivery, SimEvent, WebhookMode } from './types.js';

/**
 * Delivers signed webhooks the way Telnyx does (docs/telnyx.md §6): POST JSON, any non-2xx (3xx included)
 * or no answer within the timeout (2 s) counts as failed and is retried a bounded number of times with growing
 * delays, `meta.attempt` counting the attempts. Each attempt is signed afresh because its body differs.
 *
 * A fax's events go out one after another (each waits for the previous one's retries), so in `normal` mode a
 * receiver sees them in order. The other modes reproduce what Telnyx's docs warn about: `duplicate` sends each
 * event twice with the same event id, `reverse` holds a fax's events until its final one and then sends them
 * newest first, `drop` records them and sends nothing (the daemon must reconcile with GET /faxes).
 */
export interface WebhookDispatcher {
  setMode(mode: WebhookMode): void;
  /** Queues `event` for delivery to `url`; a null url (no webhook configured) sends nothing. */
  send(faxId: string, url: string | null, event: SimEvent): void;
  deliveries(): SimDelivery[];
}

export interface WebhookDispatcherDeps {
  signer: WebhookSigner;
  dispatcher: Dispatcher;
  tracker: ActivityTracker;
  clock: () => number;
  log: Logger;
  timeoutMs: number;
  retryDelaysMs: number[];
}

const USER_AGENT = 'faxbridge-telnyx-simulator';

export function makeWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  let mode: WebhookMode = 'normal';
  const records: SimDelivery[] = [];
  const chains = new Map<string, Promise<void>>();
  const reverseBuffers = new Map<string, SimEvent[]>();

  function enqueue(faxId: string, url: string, event: SimEvent, copies: number): void {
    const previous = chains.get(faxId) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (let copy = 0; copy < copies; copy++) await deliverWithRetries(faxId, url, event);
    });
    chains.set(faxId, next);
    deps.tracker.track(next);
    void next.finally(() => {
      if (chains.get(faxId) === next) chains.delete(faxId);
    });
  }

  async function deliverWithRetries(faxId: string, url: string, event: SimEvent): Promise<void> {
    const maxAttempts = 1 + deps.retryDelaysMs.length;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (deps.tracker.signal.aborted) return;
      if (await deliverOnce(faxId, url, event, attempt)) return;
      const delay = deps.retryDelaysMs[attempt - 1];
      if (delay !== undefined) await deps.tracker.sleep(delay);
    }
    deps.log.warn({ fax: faxId, eventId: event.id, url }, 'webhook delivery gave up');
  }

  async function deliverOnce(faxId: string, url: string, event: SimEvent, attempt: number): Promise<boolean> {
    const rawBody = JSON.stringify({ data: event, meta: { attempt, delivered_to: url } });
    const timestamp = unixSeconds(deps.clock());
    const signature = deps.signer.sign(timestamp, rawBody);
    let status = 0;
    let error: string | null = null;
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: deps.dispatcher,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'telnyx-signature-ed25519': signature,
          'telnyx-timestamp': timestamp,
        },
        body: rawBody,
        signal: AbortSignal.any([deps.tracker.signal, AbortSignal.timeout(deps.timeoutMs)]),
      });
      status = response.statusCode;
      await response.body.dump();
    } catch (thrown) {
      error = coerceError(thrown).message;
    }
    records.push({
      eventId: event.id,
      eventType: event.event_type,
      faxId,
      url,
      attempt,
      status,
      error,
      rawBody,
      signature,
      timestamp,
      at: deps.clock(),
    });
    const delivered = error === null && status >= 200 && status < 300;
    if (!delivered)
      deps.log.info({ fax: faxId, event: event.event_type, attempt, status, error }, 'webhook not accepted');
    return delivered;
  }

  function recordDrop(faxId: string, url: string, event: SimEvent): void {
    records.push({
      eventId: event.id,
      eventType: event.event_type,
      faxId,
      url,
      attempt: 0,
      status: -1,
      error: 'dropped by webhookMode("drop")',
      rawBody: '',
      signature: '',
      timestamp: '',
      at: deps.clock(),
    });
  }

  return {
    setMode(next) {
      mode = next;
    },
    send(faxId, url, event) {
      if (url === null) {
        deps.log.debug({ fax: faxId, event: event.event_type }, 'no webhook url; event not sent');
        return;
      }
      const buffered = reverseBuffers.get(faxId);
      if (mode === 'reverse' || buffered) {
        const buffer = buffered ?? [];
        buffer.push(event);
        reverseBuffers.set(faxId, buffer);
        if (!isFinalEvent(event.event_type)) return;
        reverseBuffers.delete(faxId);
        for (const held of buffer.reverse()) enqueue(faxId, url, held, 1);
        return;
      }
      if (mode === 'drop') return recordDrop(faxId, url, event);
      enqueue(faxId, url, event, mode === 'duplicate' ? 2 : 1);
    },
    deliveries: () => records.map((record) => ({ ...record })),
  };
}
