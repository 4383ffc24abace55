import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import type { JobRow } from '../../src/store/jobStore.js';
import { deliveredEventBody, placeFaxWithoutEvents } from '../helpers/outboundEvents.js';
import { makeWebhookKeyPair, signWebhook } from '../helpers/signWebhook.js';
import { startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * A webhook whose sender hangs up while its event is being recorded (docs/behaviour.md §5): the event is
 * recorded all the same, and then it must be acted on at once, by the route's own follow-up, not left for the
 * sweep. The sweep is set to 10 minutes here, so only the follow-up can act within the test.
 *
 * To be sure the hang-up comes first, the daemon (in this process) finds libuv's thread pool busy: each thread
 * waits in open() on a FIFO nobody writes to yet. The signature check runs on that pool, so the request sits
 * between its body and its answer until the test has seen the connection close, and only then frees the pool.
 */

const SEED_BYTE = 43;
const telnyxKey = makeWebhookKeyPair(SEED_BYTE);
const TO = '+15551230202';

/** Every thread of libuv's pool waiting on a FIFO; the returned function lets them all go. */
async function occupyThreadPool(dir: string): Promise<() => Promise<void>> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const fifos = Array.from({ length: threads }, (_, i) => path.join(dir, `fifo-${i}`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  // Each open() for reading blocks its thread until a writer comes.
  const readers = fifos.map((fifo) => open(fifo, 'r'));
  return async () => {
    for (const fifo of fifos) {
      // A reader waiting in open() counts as one, so a non-blocking open for writing succeeds and wakes it.
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    }
    for (const handle of await Promise.all(readers)) await handle.close();
  };
}

describe('a webhook whose sender hangs up before the answer', () => {
  let simulator: Simulator;
  let env: TestDaemon;
  let job: JobRow;
  let faxId: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fb-webhook-gone-'));
    simulator = await startSimulator({
      signingSeed: new Uint8Array(32).fill(SEED_BYTE),
      timing: { stepMs: 20 },
    });
    env = await startTestDaemon({ simulator, eventSweepMs: 10 * 60_000 });
    // A real placed fax whose own events are dropped: the job waits for the one event this test sends.
    ({ job, faxId } = await placeFaxWithoutEvents(env, simulator, TO, 1));
  });

  afterAll(async () => {
    await env?.stop();
    await simulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records the event and acts on it at once, though nobody heard the 200', async () => {
    const body = deliveredEventBody({
      jobId: job.id,
      attempt: 1,
      faxId,
      to: TO,
      pages: 1,
      webhookUrl: `${env.httpUrl}/webhooks/telnyx`,
    });
    const headers = {
      ...signWebhook(body, telnyxKey.secretKey),
      'content-length': String(Buffer.byteLength(body)),
    };
    const { port } = new URL(env.httpUrl);

    const release = await occupyThreadPool(dir);
    let answer = '';
    try {
      // The whole request, then the sender's end of the connection: the daemon reads the body, waits for the pool
      // to check the signature, and meanwhile sees the connection end and gives the response up.
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const head = [
        'POST /webhooks/telnyx HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        '',
        '',
      ].join('\r\n');
      socket.end(head + body);
      await closed;
    } finally {
      await release();
    }
    // Nobody was answered: the connection was closed before the answer.
    expect(answer).toBe('');

    const delivered = await waitFor(
      async () => {
        const row = await env.daemon.store.getJob(job.id);
        return row?.status === 'delivered' ? row : null;
      },
      5_000,
      'the job delivered by the event nobody was answered for',
    );
    expect(delivered.status).toBe('delivered');
  });
});
