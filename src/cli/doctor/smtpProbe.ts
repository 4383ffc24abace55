import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';

import { SECOND } from '../../lib/units.js';

/** Each reply of a healthy relay comes within seconds; a slow greeting (tarpitting) still fits. */
const REPLY_TIMEOUT = 30 * SECOND;

export interface RelayTarget {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte. Otherwise STARTTLS when offered (required with requireTls). */
  secure: boolean;
  requireTls: boolean;
  auth: { user: string; pass: string } | null;
}

export interface SmtpReply {
  code: number;
  text: string;
}

export type RelayVerdict =
  { ok: true; reply: SmtpReply; tls: boolean } | { ok: false; stage: string; reason: string };

/**
 * Walks the relay through EHLO, STARTTLS, AUTH, MAIL FROM and one RCPT TO, then RSET and QUIT: the relay says
 * whether it would take a message for `rcpt` from `mailFrom`, and nothing is sent.
 */
export async function probeRelay(target: RelayTarget, mailFrom: string, rcpt: string): Promise<RelayVerdict> {
  let socket: Socket | TLSSocket | null = null;
  let stage = 'connect';
  try {
    socket = await open(target);
    let reader = makeReader(socket);
    expect(await reader.next(), 220);
    stage = 'EHLO';
    let ehlo = await command(socket, reader, 'EHLO faxbridge-doctor', 250);
    let tls = target.secure;
    if (!tls && /\bSTARTTLS\b/i.test(ehlo.text)) {
      stage = 'STARTTLS';
      await command(socket, reader, 'STARTTLS', 220);
      socket = await upgrade(socket, target.host);
      reader = makeReader(socket);
      tls = true;
      ehlo = await command(socket, reader, 'EHLO faxbridge-doctor', 250);
    } else if (!tls && target.requireTls) {
      return { ok: false, stage, reason: 'the relay does not offer STARTTLS, and require_tls is set' };
    }
    if (target.auth) {
      stage = 'AUTH';
      const token = Buffer.from(`\0${target.auth.user}\0${target.auth.pass}`).toString('base64');
      await command(socket, reader, `AUTH PLAIN ${token}`, 235);
    }
    stage = 'MAIL FROM';
    await command(socket, reader, `MAIL FROM:<${mailFrom}>`, 250);
    stage = 'RCPT TO';
    const reply = await command(socket, reader, `RCPT TO:<${rcpt}>`, 250, 251);
    stage = 'RSET';
    await command(socket, reader, 'RSET', 250);
    socket.write('QUIT\r\n');
    return { ok: true, reply, tls };
  } catch (error) {
    return { ok: false, stage, reason: (error as Error).message };
  } finally {
    socket?.destroy();
  }
}

function open(target: RelayTarget): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    const options = { host: target.host, port: target.port, servername: target.host };
    const socket = target.secure ? connectTls(options) : connectTcp(options);
    socket.setTimeout(REPLY_TIMEOUT, () => socket.destroy(new Error('no answer (timeout)')));
    socket.once(target.secure ? 'secureConnect' : 'connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function upgrade(plain: Socket | TLSSocket, host: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    plain.removeAllListeners('data');
    const secure = connectTls({ socket: plain, servername: host });
    secure.setTimeout(REPLY_TIMEOUT, () => secure.destroy(new Error('no answer (timeout)')));
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', reject);
  });
}

interface Reader {
  next(): Promise<SmtpReply>;
}

/** Collects multi-line replies (`250-…` continued, `250 …` last) from the socket, one at a time. */
function makeReader(socket: Socket | TLSSocket): Reader {
  let buffer = '';
  let lines: string[] = [];
  const ready: SmtpReply[] = [];
  let waiting: { resolve: (reply: SmtpReply) => void; reject: (error: Error) => void } | null = null;
  let failure: Error | null = null;
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      lines.push(line);
      if (/^\d{3}(?!-)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
        lines = [];
        if (waiting) {
          waiting.resolve(reply);
          waiting = null;
        } else ready.push(reply);
      }
    }
  });
  const fail = (error: Error) => {
    failure = error;
    waiting?.reject(error);
    waiting = null;
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the relay closed the connection')));
  return {
    next() {
      const reply = ready.shift();
      if (reply) return Promise.resolve(reply);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
  };
}

async function command(
  socket: Socket | TLSSocket,
  reader: Reader,
  line: string,
  ...accepted: number[]
): Promise<SmtpReply> {
  socket.write(`${line}\r\n`);
  return expect(await reader.next(), ...accepted);
}

function expect(reply: SmtpReply, ...accepted: number[]): SmtpReply {
  if (!accepted.includes(reply.code)) throw new Error(`${reply.code} ${reply.text.replace(/\n/g, ' ')}`);
  return reply;
}
