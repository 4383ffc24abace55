import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

import { SMTPServer } from 'smtp-server';

/**
 * The reference server of the ingest benchmark (the anchors' "node count" server): smtp-server with the same
 * library version and the same cheap options as faxbridge, whose onData only counts bytes and answers 250.
 * Whatever faxbridge does beyond this (parse, check, store, queue) is what the ratio measures.
 *
 * Run as a process: `node dist/bench/bareSmtp.js [PORT]` prints `listening PORT`, then answers each `stats`
 * line on stdin with a JSON line `{messages, bytes}`; `close` (or end of stdin) stops it.
 */
export interface BareSmtpStats {
  messages: number;
  bytes: number;
}

export interface BareSmtp {
  port: number;
  stats(): BareSmtpStats;
  close(): Promise<void>;
}

export async function startBareSmtp(port = 0, host = '127.0.0.1'): Promise<BareSmtp> {
  const stats: BareSmtpStats = { messages: 0, bytes: 0 };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // Same ceilings as faxbridge's listener, so neither side refuses what the other takes.
    maxClients: 200,
    size: 70 * 1024 * 1024,
    onData(stream, _session, callback) {
      stream.on('data', (chunk: Buffer) => {
        stats.bytes += chunk.length;
      });
      stream.on('end', () => {
        stats.messages += 1;
        callback(null, 'Counted');
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    stats: () => ({ ...stats }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const bare = await startBareSmtp(Number(process.argv[2] ?? 0));
  process.stdout.write(`listening ${bare.port}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(bare.stats())}\n`);
    if (line.trim() === 'close') break;
  }
  await bare.close();
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
