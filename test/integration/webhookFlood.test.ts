import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MB } from '../../src/lib/units.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { makeDaemonProcessPool, productionYaml } from '../helpers/daemonProcess.js';
import { freePort } from '../helpers/freePort.js';
import { makeWebhookKeyPair, signWebhook } from '../helpers/signWebhook.js';
import { waitFor } from '../helpers/testDaemon.js';

/*
 * The webhook endpoint under a flood of slow, unfinished 1 MB bodies whose headers look right (a replayed
 * signature within its window passes every check that needs no body). The daemon runs as its own process so
 * that its memory can be read from /proc: the bodies it takes in must stay bounded, /healthz must answer
 * meanwhile, and Telnyx's next events must get their 200 once the flood is gone.
 */

const SEED_BYTE = 53;
const telnyxKey = makeWebhookKeyPair(SEED_BYTE);
const UPLOADS = 400;
/** Far below the 400 MB the flood would occupy if every body were read in. */
const MAX_GROWTH_BYTES = 150 * MB;

/** Resident memory of a process, and its peak so far (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Bytes that arrived on the daemon's side of connections to `port` but that it has not read yet (the kernel's
 * receive queues, from /proc/net/tcp). Sent bytes may sit there unread, so the memory is looked at once the
 * daemon has taken in everything it is going to take.
 */
function unreadBytesOn(port: number): number {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let unread = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // fields: sl, local address, remote address, state (01 established), tx_queue:rx_queue, …
    if (fields.length < 5 || !fields[1]!.endsWith(portHex) || fields[3] !== '01') continue;
    unread += parseInt(fields[4]!.split(':')[1]!, 16);
  }
  return unread;
}

describe('webhook flood against the daemon process', () => {
  const pool = makeDaemonProcessPool();
  const sockets: Socket[] = [];
  let simulator: Simulator;
  let dir: string;

  beforeAll(async () => {
    simulator = await startSimulator({ signingSeed: new Uint8Array(32).fill(SEED_BYTE) });
    dir = mkdtempSync(path.join(tmpdir(), 'fb-flood-'));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await pool.killAll();
    await simulator?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Sends headers that pass the body-less checks and all but the last byte of a 1 MB body, respecting
   * backpressure. Resolves once every byte was taken, or the daemon answered and closed the connection.
   */
  function slowUpload(port: number, index: number): Promise<void> {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const length = 1 * MB;
    const headers = {
      ...signWebhook(`flood ${index}`, telnyxKey.secretKey),
      'content-length': String(length),
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => resolve());
      socket.once('close', () => resolve());
      socket.once('connect', () => {
        socket.write(`POST /webhooks/telnyx HTTP/1.1\r\nhost: flood\r\n${head}\r\n`);
        let left = length - 1;
        const pump = (): void => {
          while (left > 0 && !socket.destroyed) {
            const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= piece.length;
            const last = left === 0;
            const flowing = socket.write(piece, last ? () => resolve() : undefined);
            if (!flowing && !last) return void socket.once('drain', pump);
          }
        };
        pump();
      });
    });
  }

  it('400 slow unfinished 1 MB bodies: memory stays bounded, /healthz answers, then signed events get 200', async () => {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const daemon = await pool.start({
      dir,
      yaml: productionYaml({
        dataDir: dir,
        smtpPort,
        httpPort,
        telnyxApiUrl: simulator.url,
        telnyxPublicKey: telnyxKey.publicKeyBase64,
      }),
    });
    const base = `http://127.0.0.1:${httpPort}`;
    const before = memoryOf(daemon.pid);

    await Promise.all(Array.from({ length: UPLOADS }, (_, index) => slowUpload(httpPort, index)));
    await waitFor(() => unreadBytesOn(httpPort) === 0, 30_000, 'the daemon to read what it accepts');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const after = memoryOf(daemon.pid);
    expect(after.peak - before.rss).toBeLessThan(MAX_GROWTH_BYTES);

    for (const socket of sockets.splice(0)) socket.destroy();
    const event = JSON.stringify({
      data: {
        record_type: 'event',
        id: randomUUID(),
        event_type: 'fax.delivered',
        occurred_at: new Date().toISOString(),
        payload: { fax_id: randomUUID(), status: 'delivered' },
      },
    });
    await waitFor(
      async () => {
        const response = await fetch(`${base}/webhooks/telnyx`, {
          method: 'POST',
          body: event,
          headers: signWebhook(event, telnyxKey.secretKey),
        });
        return response.status === 200;
      },
      10_000,
      'a signed event answered 200 after the flood',
    );
  });
});
