import { fork } from 'node:child_process';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

import nacl from 'tweetnacl';
import { Pool } from 'undici';

import { percentile, round } from './stats.js';

/**
 * The webhook load generator, in its own process so that it never shares the daemon's event loop (only the
 * machine's 2 cores). It signs a pool of unique Telnyx events up front, then keeps `concurrency` requests in
 * flight against POST /webhooks/telnyx over keep-alive connections: a warm-up, then a timed window.
 *
 * Signatures are Ed25519 over `${timestamp}|${body}`, as Telnyx signs. They are made with node:crypto, which is
 * byte-identical to tweetnacl (Ed25519 is deterministic; checked on the first events) and ~130× faster here:
 * tweetnacl signs ~250/s on this VM, too slow to prepare 100,000 events.
 */
export interface LoadPlan {
  url: string;
  /** 32-byte Ed25519 seed, hex: the simulator's `signingSeed`, whose public key the daemon trusts. */
  seedHex: string;
  events: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /**
   * Requests per second to offer (open loop, still at most `concurrency` in flight); 0 sends as fast as
   * answers come back (closed loop). A request due while all slots are busy leaves late, so latencies at a
   * rate the daemon cannot sustain are understated (coordinated omission): read them only below saturation.
   */
  rate: number;
}

export interface LoadResult {
  signMs: number;
  /** Requests answered in the timed window, by HTTP status. */
  statuses: Record<string, number>;
  /** All requests sent (warm-up included), for checking against the store. */
  sentTotal: number;
  okTotal: number;
  timedRequests: number;
  timedMs: number;
  perSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  ranOut: boolean;
  /** The generator's own CPU time during the timed window, ms (to tell its share from other sessions'). */
  clientCpuMs: number;
}

type Message =
  { kind: 'signed'; signMs: number } | { kind: 'measuring' } | { kind: 'done'; result: LoadResult };

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SELF_PATH = fileURLToPath(import.meta.url);

/** Starts the generator process; `onMeasuring` fires when the warm-up ends and the timed window begins. */
export async function runWebhookLoad(
  plan: LoadPlan,
  onMeasuring: () => void,
  onSigned?: (ms: number) => void,
): Promise<LoadResult> {
  const child = fork(SELF_PATH, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (message: Message) => {
      if (message.kind === 'signed') onSigned?.(message.signMs);
      if (message.kind === 'measuring') onMeasuring();
      if (message.kind === 'done') {
        resolve(message.result);
        child.disconnect();
      }
    });
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(plan);
  });
}

interface SignedEvent {
  body: Buffer;
  headers: Record<string, string>;
}

function signEvents(plan: LoadPlan): SignedEvent[] {
  const seed = Buffer.from(plan.seedHex, 'hex');
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const naclKeys = nacl.sign.keyPair.fromSeed(new Uint8Array(seed));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const events: SignedEvent[] = [];
  for (let i = 0; i < plan.events; i += 1) {
    const body = Buffer.from(JSON.stringify(faxEvent(i)));
    const message = Buffer.concat([Buffer.from(`${timestamp}|`), body]);
    const signature = sign(null, message, key);
    if (i < 3) {
      const naclSignature = Buffer.from(nacl.sign.detached(new Uint8Array(message), naclKeys.secretKey));
      if (!naclSignature.equals(signature)) throw new Error('node:crypto and tweetnacl signatures differ');
    }
    events.push({
      body,
      headers: {
        'content-type': 'application/json',
        'telnyx-signature-ed25519': signature.toString('base64'),
        'telnyx-timestamp': timestamp,
      },
    });
  }
  return events;
}

/** A real-looking `fax.delivered` for a fax nobody knows: recorded, processed as `unknown_fax`, logged. */
function faxEvent(i: number): unknown {
  const faxId = randomUUID();
  return {
    data: {
      event_type: 'fax.delivered',
      id: randomUUID(),
      occurred_at: new Date().toISOString().replace('Z', '000Z'),
      payload: {
        call_duration_secs: 35,
        connection_id: '1293384261075731499',
        direction: 'outbound',
        fax_id: faxId,
        from: '+15550002222',
        media_name: null,
        original_media_url: `https://example.com/media/${i}.pdf`,
        page_count: 3,
        partial_content: false,
        status: 'delivered',
        to: '+15551234567',
        user_id: '0b4ee5b4-1b7e-4ac5-9b48-1ffb84f7a7b7',
      },
      record_type: 'event',
    },
    meta: { attempt: 1, delivered_to: 'http://127.0.0.1/webhooks/telnyx' },
  };
}

async function generate(plan: LoadPlan, send: (message: Message) => void): Promise<LoadResult> {
  const signStarted = performance.now();
  const events = signEvents(plan);
  const signMs = performance.now() - signStarted;
  send({ kind: 'signed', signMs });

  const target = new URL(plan.url);
  const pool = new Pool(target.origin, { connections: plan.concurrency, pipelining: 1 });
  const latencies = new Float64Array(events.length);
  const statuses: Record<string, number> = {};
  let next = 0;
  let okTotal = 0;
  let timedStart = Infinity;
  let timedEnd = Infinity;
  let timedCount = 0;
  let clientCpu = process.cpuUsage();
  const started = performance.now();
  const warmupEnd = started + plan.warmupMs;

  async function worker(): Promise<void> {
    for (;;) {
      const now = performance.now();
      if (now >= timedEnd) return;
      if (now >= warmupEnd && timedStart === Infinity) {
        timedStart = now;
        timedEnd = now + plan.durationMs;
        clientCpu = process.cpuUsage();
        send({ kind: 'measuring' });
      }
      const index = next;
      if (index >= events.length) return;
      next += 1;
      if (plan.rate > 0) {
        const due = started + (index * 1000) / plan.rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const event = events[index]!;
      const sentAt = performance.now();
      const response = await pool.request({
        path: target.pathname,
        method: 'POST',
        headers: event.headers,
        body: event.body,
      });
      await response.body.dump();
      const answeredAt = performance.now();
      if (response.statusCode === 200) okTotal += 1;
      // Every answer that lands inside the window counts, whenever its request left.
      if (answeredAt >= timedStart && answeredAt <= timedEnd) {
        latencies[timedCount] = answeredAt - sentAt;
        timedCount += 1;
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      }
    }
  }

  await Promise.all(Array.from({ length: plan.concurrency }, () => worker()));
  const finished = performance.now();
  const clientUsed = process.cpuUsage(clientCpu);
  await pool.close();
  const timedMs = Math.min(finished, timedEnd) - timedStart;
  const timed = Array.from(latencies.subarray(0, timedCount));
  return {
    signMs: round(signMs, 0),
    statuses,
    sentTotal: next,
    okTotal,
    timedRequests: timedCount,
    timedMs: round(timedMs, 0),
    perSecond: round((timedCount * 1000) / timedMs, 0),
    latencyMs: {
      p50: round(percentile(timed, 50), 2),
      p90: round(percentile(timed, 90), 2),
      p99: round(percentile(timed, 99), 2),
      max: round(percentile(timed, 100), 2),
    },
    ranOut: next >= events.length,
    clientCpuMs: round((clientUsed.user + clientUsed.system) / 1000, 0),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (plan: LoadPlan) => {
    const send = (message: Message) => process.send?.(message);
    generate(plan, send).then(
      (result) => send({ kind: 'done', result }),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
