import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startSimulator } from '../../src/simulator/index.js';

/**
 * The Telnyx simulator in its own process, standing in for Telnyx when the daemon runs in production mode.
 * Real Telnyx runs elsewhere: this keeps the simulator's work (fetching and parsing every PDF, signing every
 * webhook with tweetnacl) out of the daemon's CPU and memory figures. It still shares this machine's 2 cores.
 *
 * Run as a process: `node dist/bench/lib/simulatorChild.js STEP_MS [API_LATENCY_MS]` prints one JSON line `{url, publicKey}`;
 * `close` on stdin (or end of stdin) stops it.
 */
export interface SimulatorChild {
  pid: number;
  url: string;
  publicKey: string;
  stop(): Promise<void>;
}

export const SIMULATOR_API_KEY = 'bench-api-key';
const SELF_PATH = fileURLToPath(import.meta.url);

export async function startSimulatorChild(stepMs: number, apiLatencyMs = 0): Promise<SimulatorChild> {
  const child = spawn(process.execPath, [SELF_PATH, String(stepMs), String(apiLatencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('simulator process exited before it started');
  const { url, publicKey } = JSON.parse(first.value as string) as { url: string; publicKey: string };
  return {
    pid: child.pid!,
    url,
    publicKey,
    async stop() {
      child.stdin.end('close\n');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const simulator = await startSimulator({
    apiKey: SIMULATOR_API_KEY,
    timing: { stepMs: Number(process.argv[2] ?? 1000), apiLatencyMs: Number(process.argv[3] ?? 0) },
  });
  process.stdout.write(`${JSON.stringify({ url: simulator.url, publicKey: simulator.publicKey })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'close') break;
  }
  await simulator.close();
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
