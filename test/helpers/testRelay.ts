import type { AddressInfo } from 'node:net';

import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the relay took (a 250 after DATA), with its envelope and the parsed mail. */
export interface RelayedMail {
  envelopeFrom: string;
  rcptTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

/** Where the relay refuses, and with which code: 421/451 are "try again later" (RFC 5321 §4.2.1). */
export interface RelayFailure {
  stage: 'mail' | 'rcpt';
  code: number;
}

export interface TestRelay {
  port: number;
  /** `smtp://127.0.0.1:PORT`, for `mail.smtp_url`. */
  url: string;
  messages: RelayedMail[];
  /** MAIL FROM / RCPT TO commands refused while a failure was set. */
  refusals(): number;
  /** MAIL FROM commands seen, refused or not: how many times a client tried to send at all. */
  mailFroms(): number;
  /** Makes the relay refuse every message from now on (null: accept again). */
  fail(failure: RelayFailure | null): void;
  close(): Promise<void>;
}

/**
 * The outgoing relay of a test: a real smtp-server on port 0 that parses each message with mailparser. It
 * can be switched to answer 4xx (an outage) and back, to exercise the daemon's durable outbox.
 */
export async function startTestRelay(): Promise<TestRelay> {
  const messages: RelayedMail[] = [];
  let failure: RelayFailure | null = null;
  let refused = 0;
  let mailFroms = 0;
  const refuse = (stage: RelayFailure['stage'], callback: (err?: Error | null) => void) => {
    if (failure?.stage !== stage) return callback();
    refused++;
    callback(Object.assign(new Error('Relay unavailable, try again later'), { responseCode: failure.code }));
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // The daemon's pool keeps idle connections; do not wait 30 s for them when the test closes the relay.
    closeTimeout: 100,
    onMailFrom: (_address, _session, callback) => {
      mailFroms++;
      refuse('mail', callback);
    },
    onRcptTo: (_address, _session, callback) => refuse('rcpt', callback),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              raw,
              parsed,
            });
            callback(null, 'OK queued');
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refusals: () => refused,
    mailFroms: () => mailFroms,
    fail(next) {
      failure = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
