import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Postfix's load generator, as the anchors ran it: `smtp-source [-d] -s SESSIONS -m MESSAGES -F FILE -f FROM
 * -t TO 127.0.0.1:PORT`. Without `-d` every message gets a new TCP connection (EHLO…QUIT, like real inbound
 * mail); with `-d` the sessions are kept open and carry all the messages (the data path only).
 */
export interface SmtpSourceRun {
  port: number;
  sessions: number;
  messages: number;
  file: string;
  reuseConnections: boolean;
  from: string;
  to: string;
}

export interface SmtpSourceResult {
  wallMs: number;
  exitCode: number | null;
  /** smtp-source reports refused messages and protocol trouble on stderr; empty on a clean run. */
  stderr: string;
}

export const SMTP_SOURCE_PATH =
  ['/usr/sbin/smtp-source', '/usr/bin/smtp-source'].find((p) => existsSync(p)) ?? null;

export async function runSmtpSource(run: SmtpSourceRun): Promise<SmtpSourceResult> {
  if (!SMTP_SOURCE_PATH) throw new Error('smtp-source not found (Debian package postfix)');
  const args = [
    ...(run.reuseConnections ? ['-d'] : []),
    '-s',
    String(run.sessions),
    '-m',
    String(run.messages),
    '-F',
    run.file,
    '-f',
    run.from,
    '-t',
    run.to,
    `127.0.0.1:${run.port}`,
  ];
  const started = performance.now();
  const child = spawn(SMTP_SOURCE_PATH, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const exitCode = await new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  return { wallMs: performance.now() - started, exitCode, stderr };
}

/** Flushes dirty pages before a timed run, as the anchors did, so one run's writeback does not land in the next. */
export function syncDisks(): void {
  spawnSync('sync');
}
