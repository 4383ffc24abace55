import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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
  /** smtp-source's own CPU time (user + system), from GNU time; null when /usr/bin/time is missing. */
  cpuMs: number | null;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

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
  const timeFile = path.join(tmpdir(), `fb-smtp-source-${process.pid}-${Date.now()}.time`);
  const command = GNU_TIME ? GNU_TIME : SMTP_SOURCE_PATH;
  const commandArgs = GNU_TIME ? ['-q', '-o', timeFile, '-f', '%U %S', SMTP_SOURCE_PATH, ...args] : args;
  const started = performance.now();
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const exitCode = await new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  const wallMs = performance.now() - started;
  let cpuMs: number | null = null;
  if (GNU_TIME) {
    const [user, system] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
    cpuMs = ((user ?? 0) + (system ?? 0)) * 1000;
    rmSync(timeFile, { force: true });
  }
  return { wallMs, exitCode, stderr, cpuMs };
}

/** Flushes dirty pages before a timed run, as the anchors did, so one run's writeback does not land in the next. */
export function syncDisks(): void {
  spawnSync('sync');
}
