import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

import { MailParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * The reference server of the ingest benchmark (the anchors' "node count" server): smtp-server with the same
 * library version and the same cheap options as faxbridge, whose onData only counts bytes and answers 250.
 * Whatever faxbridge does beyond this (parse, check, store, queue) is what the ratio measures.
 *
 * Two more of the anchors' servers, to see how much of the contract's work a Node server can do at what rate on
 * the machine at hand (`ingest.js --reference`):
 * - `fsync`: each message piped to a new file, fsync'd and closed before the 250: a durable queue and nothing else.
 * - `parse`: `fsync`, and the same bytes through a streaming MailParser, each attachment written to a file; the
 *   250 after the fsync, the parser's end and the attachments' writes. No sender or PDF check, no database.
 *
 * Run as a process: `node dist/bench/bareSmtp.js [PORT] [count|fsync|parse]` prints `listening PORT`, then answers
 * each `stats` line on stdin with a JSON line `{messages, bytes}` (read between runs, so the spool is emptied
 * then); `close` (or end of stdin) stops it.
 */
export type BareMode = 'count' | 'fsync' | 'parse';

export const BARE_MODES: readonly BareMode[] = ['count', 'fsync', 'parse'];

export interface BareSmtpStats {
  messages: number;
  bytes: number;
}

export interface BareSmtp {
  port: number;
  stats(): BareSmtpStats;
  /** Removes the messages kept so far (`fsync`, `parse`), as the anchors emptied the spool between runs. */
  emptySpool(): void;
  close(): Promise<void>;
}

export async function startBareSmtp(
  port = 0,
  host = '127.0.0.1',
  mode: BareMode = 'count',
): Promise<BareSmtp> {
  const stats: BareSmtpStats = { messages: 0, bytes: 0 };
  const spool = mode === 'count' ? null : mkdtempSync(path.join(tmpdir(), 'fb-bare-'));
  let nextFile = 0;
  const keep = (stream: Readable): Promise<void> => {
    if (!spool) return new Promise((resolve) => stream.on('end', resolve).resume());
    const file = path.join(spool, `${nextFile++}.eml`);
    const written = writeDurably(stream, file);
    if (mode !== 'parse') return written;
    return Promise.all([written, parseToFiles(stream, `${file}.part`)]).then(() => undefined);
  };
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
      keep(stream).then(
        () => {
          stats.messages += 1;
          callback(null, 'Counted');
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
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
    emptySpool() {
      if (!spool) return;
      for (const name of readdirSync(spool)) rmSync(path.join(spool, name), { force: true });
    },
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          if (spool) rmSync(spool, { recursive: true, force: true });
          resolve();
        }),
      ),
  };
}

/** The anchors' durable queue file: written, fsync'd, closed. */
async function writeDurably(stream: Readable, file: string): Promise<void> {
  await pipeline(stream, createWriteStream(file));
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The anchors' parse: a streaming MailParser, each attachment piped to a file and released once written. */
function parseToFiles(stream: Readable, prefix: string): Promise<void> {
  const parser = new MailParser();
  const writes: Promise<void>[] = [];
  parser.on('data', (data: { type: string; content?: Readable; release?: () => void }) => {
    if (data.type !== 'attachment' || !data.content) return;
    const release = data.release;
    writes.push(
      pipeline(data.content, createWriteStream(`${prefix}${writes.length}`)).finally(() => release?.()),
    );
  });
  const ended = new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
  });
  stream.pipe(parser);
  return ended.then(() => Promise.all(writes)).then(() => undefined);
}

async function main(): Promise<void> {
  const mode = (process.argv[3] ?? 'count') as BareMode;
  if (!BARE_MODES.includes(mode)) throw new Error(`mode must be one of ${BARE_MODES.join(', ')}`);
  const bare = await startBareSmtp(Number(process.argv[2] ?? 0), '127.0.0.1', mode);
  process.stdout.write(`listening ${bare.port}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'stats') {
      bare.emptySpool();
      process.stdout.write(`${JSON.stringify(bare.stats())}\n`);
    }
    if (line.trim() === 'close') break;
  }
  await bare.close();
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
