/**
 * Outgoing mail transport (docs/dependencies.md, nodemailer): a pooled SMTP relay when `mail.smtp_url` is
 * set, otherwise `.eml` files in the outbox folder (docs/behaviour.md §1 sandbox). Errors are sorted into
 * "try again later" and "never going to work" so the durable outbox that calls `send` knows whether to retry.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import { access, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type nodemailerModule from 'nodemailer';
import type { Transporter } from 'nodemailer';

type Nodemailer = typeof nodemailerModule;

import { FaxError } from '../errors.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import { requireCommonJs } from '../lib/requireCommonJs.js';
import type { Logger } from '../log.js';

export interface OutgoingMail {
  /** Header From, `mail.from` as configured (`Fax <fax@fax.example.com>`). */
  from: string;
  to: string[];
  /** MAIL FROM: the bare address inside `mail.from` (docs/behaviour.md §6). */
  envelopeFrom: string;
  subject: string;
  text: string;
  /** `<local@host>`, deterministic so that a resend after a crash repeats it. */
  messageId: string;
  headers: Record<string, string>;
  inReplyTo?: string;
  references?: string[];
  /** An HTML alternative, for a mail with an inline picture (`cid:` of an attachment). */
  html?: string;
  /** `content` instead of `path` for small generated parts; `cid` makes one inline. */
  attachments: Array<{
    filename: string;
    path?: string;
    content?: Buffer;
    contentType: string;
    cid?: string;
  }>;
}

export interface SendResult {
  messageId: string;
  response: string;
  /** Recipients the relay took; in .eml mode, every recipient. */
  accepted: string[];
  /** Recipients refused for good (5xx) while others were accepted. */
  rejected: string[];
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SendResult>;
  verify(): Promise<void>;
  close(): Promise<void>;
}

interface MailErrorDetails {
  cause?: unknown;
  code?: string;
  responseCode?: number;
  /** Recipients that were deferred; the others already have the message (same Message-ID on resend). */
  deferredRecipients?: string[];
}

abstract class MailError extends Error {
  readonly code: string | undefined;
  readonly responseCode: number | undefined;
  readonly deferredRecipients: string[] | undefined;
  constructor(message: string, details: MailErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.responseCode = details.responseCode;
    this.deferredRecipients = details.deferredRecipients;
  }
}

/** Relay unreachable, 4xx, credentials refused, disk full: the same mail may go through later. */
export class MailTransientError extends MailError {}

/** 5xx for this message, or an attachment that no longer exists: sending it again cannot succeed. */
export class MailPermanentError extends MailError {}

/** Attachment gone or refused, or no recipients: a retry would fail the same way. */
const PERMANENT_CODES = new Set(['ENOENT', 'EISDIR', 'EFILEACCESS', 'EURLACCESS', 'EENVELOPE']);

/**
 * RFC 5321 §4.2.1: 4yz is transient, 5yz permanent. 503 (bad sequence) is the session's fault, not the
 * message's (nodemailer `isPermanentResponseCode`). A refused login (EAUTH, 535) is the operator's to fix, so it
 * stays transient: the receipt goes out once the credentials are corrected instead of being dropped.
 */
export function classifyMailError(thrown: unknown): MailTransientError | MailPermanentError {
  if (thrown instanceof MailTransientError || thrown instanceof MailPermanentError) return thrown;
  const err = (thrown ?? {}) as {
    message?: string;
    code?: string;
    /** nodemailer wraps a failed attachment read as ESTREAM and keeps the fs code here. */
    originalCode?: string;
    responseCode?: number;
    response?: string;
  };
  const details = { cause: thrown, code: err.code, responseCode: err.responseCode };
  const message = err.response
    ? `${err.message ?? 'mail error'}: ${err.response}`
    : (err.message ?? String(thrown));
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const permanent =
    err.code !== 'EAUTH' &&
    (responseCode !== undefined
      ? responseCode >= 500 && responseCode < 600 && responseCode !== 503
      : PERMANENT_CODES.has(err.code ?? '') || PERMANENT_CODES.has(err.originalCode ?? ''));
  return permanent ? new MailPermanentError(message, details) : new MailTransientError(message, details);
}

const SMTP_URL_PARAMS = new Set(['require_tls']);

/** Turns `smtp[s]://user:pass@host:port?require_tls=true` into nodemailer pool options. */
function smtpOptions(smtpUrl: string) {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new FaxError('config', 'mail.smtp_url: expected smtp://host:port or smtps://host:port');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new FaxError(
      'config',
      `mail.smtp_url: unsupported scheme ${url.protocol} (use smtp:// or smtps://)`,
    );
  }
  for (const key of url.searchParams.keys()) {
    if (!SMTP_URL_PARAMS.has(key)) throw new FaxError('config', `mail.smtp_url: unknown parameter ${key}`);
  }
  const secure = url.protocol === 'smtps:';
  const requireTLS = !secure && /^(true|1|yes)$/i.test(url.searchParams.get('require_tls') ?? '');
  return {
    pool: true as const,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS,
    // STARTTLS when offered; a relay whose upgrade fails still gets the mail, but never the password.
    opportunisticTLS: !secure && !requireTLS,
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined,
    maxConnections: 2,
    // The durable outbox retries; the pool's own requeue only covers a connection dropped mid-send.
    maxRequeues: 1,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 120_000,
    logger: false,
    disableUrlAccess: true,
  };
}

function messageOptions(mail: OutgoingMail) {
  return {
    from: mail.from,
    to: mail.to,
    envelope: { from: mail.envelopeFrom, to: mail.to },
    subject: mail.subject,
    text: mail.text,
    ...(mail.html ? { html: mail.html } : {}),
    messageId: mail.messageId,
    headers: mail.headers,
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references?.length ? { references: mail.references } : {}),
    attachments: mail.attachments.map((a) => ({
      filename: a.filename,
      ...(a.path !== undefined ? { path: a.path } : { content: a.content }),
      contentType: a.contentType,
      ...(a.cid ? { cid: a.cid } : {}),
    })),
  };
}

function makeSmtpMailer(smtpUrl: string, log: Logger): Mailer {
  const options = smtpOptions(smtpUrl);
  const transport = lazyTransport((nodemailer) => nodemailer.createTransport(options));
  // Never the URL itself: it carries the password.
  log.info(
    { host: options.host, port: options.port, secure: options.secure, requireTLS: options.requireTLS },
    'mail: sending through SMTP relay',
  );
  return {
    async send(mail) {
      let info;
      try {
        info = await (await transport.get()).sendMail(messageOptions(mail));
      } catch (err) {
        throw classifyMailError(err);
      }
      const rejectedErrors = (
        info as { rejectedErrors?: Array<{ recipient?: string; responseCode?: number }> }
      ).rejectedErrors;
      const deferred = (rejectedErrors ?? []).filter((e) => !e.responseCode || e.responseCode < 500);
      if (deferred.length) {
        throw new MailTransientError(`mail: ${deferred.length} recipient(s) deferred: ${info.response}`, {
          deferredRecipients: deferred.map((e) => e.recipient ?? ''),
          responseCode: deferred[0]!.responseCode,
        });
      }
      const accepted = info.accepted.map(String);
      const rejected = info.rejected.map(String);
      if (rejected.length)
        log.warn({ messageId: mail.messageId, rejected }, 'mail: relay refused some recipients');
      return { messageId: info.messageId, response: info.response, accepted, rejected };
    },
    async verify() {
      try {
        await (await transport.get()).verify();
      } catch (err) {
        throw classifyMailError(err);
      }
    },
    async close() {
      await transport.close();
    },
  };
}

/**
 * nodemailer (~7 MB of RSS) is loaded, and its transport made, by the first mail sent or check made, not at
 * start: many daemons send their first receipt long after starting, and some never send from this process.
 */
function lazyTransport<Info>(make: (nodemailer: Nodemailer) => Transporter<Info>): {
  get(): Promise<Transporter<Info>>;
  close(): Promise<void>;
} {
  let made: Promise<Transporter<Info>> | null = null;
  return {
    // nodemailer's CommonJS build (lib/requireCommonJs.ts says why); a promise still, so callers wait as before.
    get: () => (made ??= Promise.resolve().then(() => make(requireCommonJs('nodemailer') as Nodemailer))),
    async close() {
      if (made) (await made).close();
    },
  };
}

/** Message-ID → file name: a resend of the same mail replaces its file instead of adding a second one. */
export function emlFileName(messageId: string): string {
  const stem = messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._@-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 200);
  if (!stem) throw new MailPermanentError('mail: a Message-ID is required to name the outbox file');
  return `${stem}.eml`;
}

/** Write to a temporary name, fsync, rename, fsync the folder: a crash leaves the old file or the new one. */
async function writeAtomically(dir: string, name: string, content: Readable | Buffer): Promise<string> {
  const finalPath = join(dir, name);
  const tmpPath = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
  try {
    // `flush` fsyncs the file before it is closed (Node >= 20.10).
    await pipeline(source, createWriteStream(tmpPath, { flags: 'wx', mode: PRIVATE_FILE_MODE, flush: true }));
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  }
  await rename(tmpPath, finalPath);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await dirHandle.close();
  }
  return finalPath;
}

function makeOutboxMailer(outboxDir: string, log: Logger): Mailer {
  const transport = lazyTransport((nodemailer) =>
    nodemailer.createTransport({
      streamTransport: true,
      buffer: false,
      newline: 'windows',
      disableUrlAccess: true,
    }),
  );
  log.info({ outboxDir }, 'mail: no mail.smtp_url, writing .eml files to the outbox');
  return {
    async send(mail) {
      try {
        await makePrivateDir(outboxDir);
        const info = await (await transport.get()).sendMail(messageOptions(mail));
        const file = await writeAtomically(outboxDir, emlFileName(mail.messageId), info.message);
        log.debug({ messageId: mail.messageId, file }, 'mail: written to outbox');
        return {
          messageId: info.messageId,
          response: `written ${file}`,
          accepted: [...mail.to],
          rejected: [],
        };
      } catch (err) {
        throw classifyMailError(err);
      }
    },
    async verify() {
      try {
        await makePrivateDir(outboxDir);
        await access(outboxDir, fsConstants.W_OK);
      } catch (err) {
        throw new MailTransientError(`mail: outbox ${outboxDir} is not writable`, { cause: err });
      }
    },
    async close() {
      await transport.close();
    },
  };
}

export function makeMailer(options: { smtpUrl?: string | null; outboxDir: string; log: Logger }): Mailer {
  // The caller passes its component child (`{component: 'mail'}`); a second child would repeat the key.
  const { log } = options;
  return options.smtpUrl ? makeSmtpMailer(options.smtpUrl, log) : makeOutboxMailer(options.outboxDir, log);
}
