import { randomBytes } from 'node:crypto';

import { attachablePath, removeTemporaryAttachments } from '../blobs/attachablePath.js';
import type { Ctx } from '../context.js';
import { firstPagePng } from '../documents/wire/firstPagePng.js';
import { coerceError } from '../errors.js';
import { calculateDelay } from '../lib/backoff.js';
import { startPollingLoop } from '../lib/pollingLoop.js';
import { DAY, MINUTE, SECOND } from '../lib/units.js';
import type { OutboxRow } from '../store/jobStore.js';
import { composeAdminNotice } from './composeAdminNotice.js';
import { composeReceipt, type OutgoingMail, type ReceiptInput } from './composeReceipt.js';
import { MailPermanentError } from './mailer.js';
import { subjectsFromConfig } from './templates.js';

export interface OutboxDeps extends Pick<
  Ctx,
  'config' | 'store' | 'documents' | 'mailer' | 'signer' | 'clock' | 'log'
> {
  /** Composes kinds other than receipts (inbound faxes, admin notices); null = not this worker's kind. */
  composeOther?: (row: OutboxRow) => Promise<OutgoingMail | null>;
  onSent?: (row: OutboxRow) => void;
  /** Wait before resending after a transient relay error; production uses MAIL_BACKOFF, tests a short one. */
  backoff?: { baseMs: number; maxMs: number };
  /** How long a claimed row is this worker's; production uses LEASE, takeover tests a few seconds. */
  leaseMs?: number;
}

/** A relay that stays down this long turns a pending mail into a dead one (and is logged loudly). */
const GIVE_UP_AFTER = 5 * DAY;
export const MAIL_BACKOFF = { baseMs: 15 * SECOND, maxMs: 30 * MINUTE };
/**
 * How long a claimed row is this worker's. After a crash another instance (or the restart) sends the row once
 * this runs out, so it is also how late a receipt can be after a kill -9: short, since one send takes seconds.
 * Rows are claimed one at a time, so no row waits behind a batch while its lease runs down. A send that outlasts
 * the lease (a relay stalling near socketTimeout) may go out twice, with the same Message-ID
 * (docs/behaviour.md §4).
 */
const LEASE = 1 * MINUTE;

const RECEIPT_KINDS: Record<string, ReceiptInput['kind']> = {
  receipt_accepted: 'accepted',
  receipt_delivered: 'delivered',
  receipt_failed: 'failed',
};

/**
 * Sends what the outbox holds. Rows are written in the same transaction as the job change that causes them,
 * so a receipt is never lost; a row is marked sent only after the relay's 250, so a crash in between sends
 * it again with the same Message-ID (docs/behaviour.md §4: at least once, recognisably the same mail).
 */
export async function drainOutbox(deps: OutboxDeps, owner: string, limit = 1): Promise<number> {
  const { store, clock, log } = deps;
  const rows = await store.claimOutbox(owner, clock.now(), deps.leaseMs ?? LEASE, limit);
  for (const row of rows) {
    const rowLog = log.child({ outbox: row.id, kind: row.kind, job: row.job_id ?? undefined });
    try {
      const mail = await composeRow(deps, row);
      if (!mail) {
        await store.markOutboxRetry(row.id, owner, clock.now(), 'nothing to send', true);
        rowLog.warn('outbox row has nothing to send; marked dead');
        continue;
      }
      const sent = await deps.mailer.send(mail).finally(() =>
        removeTemporaryAttachments(
          deps.config.data_dir,
          mail.attachments.flatMap((a) => (a.path ? [{ path: a.path }] : [])),
        ),
      );
      await store.markOutboxSent(row.id, owner, clock.now());
      rowLog.info({ to: mail.to, messageId: sent.messageId }, 'mail sent');
      deps.onSent?.(row);
    } catch (thrown) {
      const error = coerceError(thrown);
      const permanent = error instanceof MailPermanentError;
      const dead = permanent || clock.now() - row.created_at > GIVE_UP_AFTER;
      const runAt = clock.now() + calculateDelay(row.attempts, deps.backoff ?? MAIL_BACKOFF);
      await store.markOutboxRetry(row.id, owner, runAt, error.message, dead);
      if (dead) rowLog.error({ err: error }, 'mail could not be sent and was given up');
      else rowLog.warn({ err: error, retryInMs: runAt - clock.now() }, 'mail not sent; will retry');
    }
  }
  return rows.length;
}

async function composeRow(deps: OutboxDeps, row: OutboxRow): Promise<OutgoingMail | null> {
  if (row.kind === 'admin_notice') return composeJobAdminNotice(deps, row);
  const kind = RECEIPT_KINDS[row.kind];
  if (!kind) return deps.composeOther ? deps.composeOther(row) : null;
  return composeJobReceipt(deps, row.job_id ?? '', kind);
}

/** Null (the row is marked dead, with a warning) when nobody is configured to be told. */
async function composeJobAdminNotice(deps: OutboxDeps, row: OutboxRow): Promise<OutgoingMail | null> {
  const { config, store } = deps;
  const job = row.job_id ? await store.getJob(row.job_id) : null;
  if (!job || config.admin.length === 0) return null;
  const message = await store.getMessage(job.message_row_id);
  const attempts = await store.listAttempts(job.id);
  const payload = JSON.parse(row.payload_json) as { reason?: string };
  return composeAdminNotice({
    jobId: job.id,
    to: job.to_number,
    sender: job.sender,
    faxId: attempts.at(-1)?.fax_id ?? null,
    acceptedAt: new Date(message?.received_at ?? job.created_at),
    reason: payload.reason ?? 'unknown',
    admins: config.admin,
    timezone: config.timezone,
    from: config.mail.from,
    domain: config.smtp.hostname,
  });
}

export async function composeJobReceipt(
  deps: Pick<OutboxDeps, 'config' | 'store' | 'documents' | 'signer' | 'clock'>,
  jobId: string,
  kind: ReceiptInput['kind'],
): Promise<OutgoingMail | null> {
  const { config, store, signer, clock } = deps;
  const job = await store.getJob(jobId);
  const message = job && (await store.getMessage(job.message_row_id));
  const document = message && (await store.getDocument(message.document_id));
  if (!job || !message || !document) return null;
  // Never answer a null or unusable sender (docs/behaviour.md §6): there is nobody to tell, and mail to `<>`
  // or to a bare name would bounce back to mail.from. The caller marks the row dead with a warning.
  if (!isMailboxAddress(message.sender)) return null;
  const attempts = await store.listAttempts(job.id);
  let attachment: ReceiptInput['document'];
  if (kind === 'failed' && document.deleted_at === null) {
    const linkTtl = Math.max(config.retention.days, 1) * DAY;
    attachment =
      document.size <= config.mail.max_attachment_size
        ? {
            filename: document.filename,
            path: await attachablePath(deps.documents, deps.config.data_dir, document.storage_key),
            size: document.size,
          }
        : {
            filename: document.filename,
            size: document.size,
            link: `${config.http.public_url}${signer.sign(`/documents/${document.storage_key}`, clock.now() + linkTtl)}`,
          };
  }
  return composeReceipt({
    kind,
    jobId: job.id,
    to: job.to_number,
    sender: { address: message.sender, name: message.sender_name ?? undefined },
    pages: document.pages,
    pagesSent: job.pages_sent,
    durationSecs: job.duration_secs,
    acceptedAt: new Date(message.received_at),
    finishedAt: job.finished_at === null ? null : new Date(job.finished_at),
    attempts: attempts
      .filter((a) => a.state !== 'posting')
      .map((a) => ({
        attempt: a.attempt,
        startedAt: new Date(a.started_at),
        endedAt: a.ended_at === null ? null : new Date(a.ended_at),
        outcome: a.state === 'delivered' ? 'delivered' : a.state === 'failed' ? 'failed' : 'unknown',
        failureReason: a.failure_reason,
        pages: a.pages,
        durationSecs: a.duration_secs,
      })),
    failureReason: job.failure_reason,
    failureDetail: job.failure_detail,
    original: {
      messageId: message.message_id,
      references: JSON.parse(message.references_json) as string[],
      subject: message.subject,
    },
    document: attachment,
    timezone: config.timezone,
    from: config.mail.from,
    domain: config.smtp.hostname,
    subjects: subjectsFromConfig(config.mail.subjects),
    preview: kind === 'delivered' ? await transmittedPreview(deps, job.id) : null,
  });
}

/** The first page of the PDF the job transmitted; none when it is gone (retention) or cannot be drawn. */
async function transmittedPreview(
  deps: Pick<OutboxDeps, 'config' | 'store' | 'documents'>,
  jobId: string,
): Promise<Buffer | null> {
  const sent = await deps.store.getTransmittedDocument(jobId);
  if (!sent || sent.deleted_at !== null) return null;
  const file = await attachablePath(deps.documents, deps.config.data_dir, sent.storage_key).catch(() => null);
  if (!file) return null;
  try {
    return await firstPagePng(file);
  } finally {
    // S3 documents were fetched into a temporary file for this.
    await removeTemporaryAttachments(deps.config.data_dir, [{ path: file }]);
  }
}

/** A usable recipient: `local@domain`, not empty, not `<>`, nothing that could break the header or envelope. */
function isMailboxAddress(address: string | null | undefined): boolean {
  const trimmed = address?.trim() ?? '';
  const at = trimmed.lastIndexOf('@');
  return at > 0 && at < trimmed.length - 1 && !/[\r\n<>]/.test(trimmed);
}

export interface OutboxLoop {
  wake(): void;
  stop(): Promise<void>;
}

/** Polls the outbox; `wake` after queuing a mail sends it without waiting for the next poll. */
export function startOutboxLoop(deps: OutboxDeps, pollMs = 2 * SECOND): OutboxLoop {
  const owner = `outbox-${randomBytes(6).toString('hex')}`;
  const loopOptions = { everyMs: pollMs, name: 'outbox pass', log: deps.log };
  return startPollingLoop(async (stopping) => {
    try {
      while (!stopping() && (await drainOutbox(deps, owner)) > 0) {
        // keep draining while there is work
      }
    } catch (error) {
      deps.log.error({ err: coerceError(error) }, 'outbox pass failed');
    }
  }, loopOptions);
}
