import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';

/**
 * A port nobody listens on right now, for child processes that need one up front (and keep it across a restart).
 *
 * Picked below the kernel's ephemeral range, not by binding port 0: between this choice and the child's listen
 * (a second or more, and again across a SIGKILL and restart) the test suite opens thousands of client
 * connections, each on an ephemeral local port, and one of them taking this port made the child fail with
 * EADDRINUSE. Below the range, only another test picking the same random port could collide.
 */
export async function freePort(): Promise<number> {
  const [low, high] = belowEphemeralRange();
  for (let tries = 0; tries < 50; tries += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  return listenOnAnyPort();
}

const DEFAULT_RANGE: [number, number] = [20_000, 32_768];

/** [20000, start of the ephemeral range), or the Linux default's when the range cannot be read. */
function belowEphemeralRange(): [number, number] {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const first = Number(start);
    if (Number.isInteger(first) && first > DEFAULT_RANGE[0] + 1000) return [DEFAULT_RANGE[0], first];
  } catch {
    // Not Linux: the default range's start is the usual one.
  }
  return DEFAULT_RANGE;
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  return listening;
}

async function listenOnAnyPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
