import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { openSmtpDialogue, toDataBytes } from '../test/helpers/smtpDialogue.js';
import { makeBenchMessage } from './lib/benchMessage.js';
import { makeBenchPdf } from './lib/benchPdf.js';
import { BENCH_SENDER, startFaxbridge } from './lib/startFaxbridge.js';

/*
 * How long each step of one SMTP transaction takes, as a sender's server waits for it: greeting, EHLO, MAIL,
 * RCPT, DATA (to the 354), the message (from its first byte sent to the 250) and QUIT. One new connection per
 * message, `--sessions` at once, against the daemon in production mode (simulator in another process, its
 * steps 60 s apart so that the faxes' own work stays out of the window). The ingest bench's ratio with new
 * connections follows from it: with smtp-server's 100 ms greeting, 8 sessions reach 8 / (0.1 s + the rest).
 *
 * Usage: npm run build && node dist/bench/transactionLatency.js [--sessions 1,8] [--messages 200]
 */
const STEPS = ['greeting', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'message', 'QUIT'] as const;
type Step = (typeof STEPS)[number];

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,8' },
    messages: { type: 'string', default: '200' },
  },
});
const to = '+15551234567@fax.localhost';
const dataDir = mkdtempSync(path.join(tmpdir(), 'fb-bench-latency-'));
const pdf = await makeBenchPdf({ pages: 3, targetBytes: 200 * 1024 });
// The ingest bench's message, as an SMTP client sends it after the 354.
const data = `${toDataBytes(makeBenchMessage({ pdf, from: BENCH_SENDER, to }))}\r\n.\r\n`;
const under = await startFaxbridge({ mode: 'external', dataDir, stepMs: 60_000 });
try {
  process.stdout.write('| sessions | step | median ms | p90 ms |\n| --- | --- | --- | --- |\n');
  for (const sessions of values.sessions.split(',').map(Number)) {
    const count = Number(values.messages);
    const timings: Array<Record<Step, number>> = [];
    let started = 0;
    await Promise.all(
      Array.from({ length: sessions }, async () => {
        while (started < count) {
          started += 1;
          timings.push(await transaction(under.daemon.smtpPort));
        }
      }),
    );
    // The first quarter starts the readers and the sandbox's children: not what a steady flow of mail sees.
    const steady = timings.slice(Math.floor(timings.length / 4));
    for (const step of STEPS) {
      const sorted = steady.map((one) => one[step]).sort((a, b) => a - b);
      const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
      process.stdout.write(`| ${sessions} | ${step} | ${at(0.5).toFixed(1)} | ${at(0.9).toFixed(1)} |\n`);
    }
  }
} finally {
  await under.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

/** One transaction on a new connection; rejects on any reply that is not the expected success. */
async function transaction(port: number): Promise<Record<Step, number>> {
  const times = {} as Record<Step, number>;
  let since = performance.now();
  const dialogue = await openSmtpDialogue(port);
  const step = async (name: Step, expected: RegExp, exchange: () => Promise<string>): Promise<void> => {
    const reply = await exchange();
    if (!expected.test(reply)) throw new Error(`${name}: ${reply}`);
    const now = performance.now();
    times[name] = now - since;
    since = now;
  };
  try {
    await step('greeting', /^220/, () => dialogue.reply());
    await step('EHLO', /^250/, () => dialogue.command('EHLO bench.example'));
    await step('MAIL', /^250/, () => dialogue.command(`MAIL FROM:<${BENCH_SENDER}>`));
    await step('RCPT', /^250/, () => dialogue.command(`RCPT TO:<${to}>`));
    await step('DATA', /^354/, () => dialogue.command('DATA'));
    await step('message', /^250/, () => {
      dialogue.write(data);
      return dialogue.reply(60_000);
    });
    await step('QUIT', /^221/, () => dialogue.command('QUIT'));
  } finally {
    dialogue.close();
  }
  return times;
}
