import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A hand-driven SMTP client for tests that must act between two protocol steps (send half of DATA, then signal
 * the daemon), which nodemailer cannot pause. Replies are read line by line; multi-line replies are joined.
 */
export interface SmtpDialogue {
  /** The next complete reply (all its lines), e.g. `250 2.0.0 Queued …`. */
  reply(timeoutMs?: number): Promise<string>;
  /** Sends a command line and returns its reply. */
  command(line: string): Promise<string>;
  /** Writes raw bytes (message data) without waiting for a reply. */
  write(bytes: string | Buffer): void;
  close(): void;
  socket: Socket;
}

export interface DialogueOptions {
  /** Connect from this local address (127.0.0.2 … are loopback on Linux: another client to the daemon). */
  localAddress?: string;
  /** Speak TLS from the first byte (the implicit-TLS port), trusting `ca`. */
  tls?: { ca: Buffer; servername?: string };
}

export async function openSmtpDialogue(
  port: number,
  host = '127.0.0.1',
  options: DialogueOptions = {},
): Promise<SmtpDialogue> {
  const { localAddress, tls } = options;
  const socket: Socket = tls
    ? tlsConnect({
        socket: connect({ port, host, localAddress }),
        ca: tls.ca,
        servername: tls.servername ?? 'localhost',
      })
    : connect({ port, host, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once(tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  let buffer = '';
  const waiting: Array<(reply: string) => void> = [];
  const replies: string[] = [];
  let pending: string[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      pending.push(line);
      // `250-…` continues a reply; `250 …` ends it.
      if (line.length < 4 || line[3] !== '-') {
        const reply = pending.join('\n');
        pending = [];
        const next = waiting.shift();
        if (next) next(reply);
        else replies.push(reply);
      }
    }
  });
  socket.on('error', () => undefined);

  const reply = (timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const ready = replies.shift();
      if (ready !== undefined) return resolve(ready);
      const timer = setTimeout(() => reject(new Error('no SMTP reply in time')), timeoutMs);
      waiting.push((text) => {
        clearTimeout(timer);
        resolve(text);
      });
    });

  return {
    socket,
    reply,
    command(line) {
      socket.write(`${line}\r\n`);
      return reply();
    },
    write: (bytes) => void socket.write(bytes),
    close: () => socket.destroy(),
  };
}

/** CRLF line ends and dot-stuffing (RFC 5321 §4.5.2), ready to be written after `354`. */
export function toDataBytes(message: Buffer): string {
  const text = message.toString('latin1').replace(/\r?\n/g, '\r\n');
  return text.replace(/(^|\r\n)\./g, '$1..');
}

/** Resolves with the socket error code when nothing listens (ECONNREFUSED), or the greeting when it answers. */
export function tryConnect(
  port: number,
  host = '127.0.0.1',
): Promise<{ refused: string } | { greeting: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setEncoding('utf8');
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ refused: error.code ?? error.message }));
    socket.once('data', (greeting: string) => {
      socket.destroy();
      resolve({ greeting: greeting.trim() });
    });
  });
}
