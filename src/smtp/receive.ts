import { randomBytes } from 'node:crypto';
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import { assembleFaxPdf, type FaxDocument, FaxDocumentRefused } from '../documents/assembleFaxPdf.js';
import type { ConversionSlots } from '../documents/convert/conversionSlots.js';
import { convertParts, DocumentRefused, type FaxPdf } from '../documents/convertParts.js';
import type { ExtractedMessage } from '../documents/extractDocuments.js';
import type { MimeReaders } from '../documents/mimeReaders/mimeReaders.js';
import { makeCoverInfo } from '../domain/coverInfo.js';
import { parseFaxNumber } from '../domain/phoneNumber.js';
import { resendKey } from '../domain/resendKey.js';
import { findSender } from '../domain/senders.js';
import { FaxError } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import { fsyncFile } from '../lib/fsyncFile.js';
import { newId } from '../lib/ids.js';
import { DAY, formatBytes } from '../lib/units.js';
import type { Logger } from '../log.js';
import type { JobStore } from '../store/jobStore.js';
import type { IntakeChecks } from './intakeChecks.js';
import { abortWhenCutOff } from './messageCutOff.js';
import { collectHead, findReceiptBounce } from './receiptBounce.js';
import { replies } from './replies.js';
import { SizeGuard } from './sizeGuard.js';

/** A mail sent again within this time is answered with its existing jobs (a client that lost our 250). */
const RESEND_WINDOW = DAY;

export interface ReceiveDeps {
  config: Config;
  store: JobStore;
  documents: DocumentStorage;
  clock: Clock;
  /** Bounds Office conversions across every SMTP session of this daemon. */
  officeSlots: ConversionSlots;
  /** Where messages are read (documents/mimeReaders): one set per daemon. */
  mimeReaders: MimeReaders;
}

export interface Transaction {
  sessionId: string;
  envelopeFrom: string;
  /** Distinct E.164 fax numbers accepted at RCPT. */
  numbers: string[];
  maxMessageSize: number;
  log: Logger;
  /** Sender authentication and per-sender limits (src/smtp/guards.ts); none in tools that queue directly. */
  checks?: IntakeChecks;
}

/**
 * End of DATA: parse while the bytes arrive, find and check the PDF, store it durably, then record the jobs.
 * Resolves with the 250 text; rejects with an SMTP reply error (or a FaxError the listener answers 451).
 */
export async function receiveMessage(deps: ReceiveDeps, input: Readable, tx: Transaction): Promise<string> {
  const cutOff = abortWhenCutOff(input);
  // Made by extractDocuments; every document in it has been moved into storage when all went well.
  const workDir = path.join(deps.config.data_dir, 'tmp', `${tx.sessionId}-${randomBytes(4).toString('hex')}`);
  try {
    const guard = new SizeGuard(tx.maxMessageSize);
    // Only the receipts' own address as recipient: a bounce of a receipt, read to find which one.
    const bounceHead = tx.numbers.length === 0 ? collectHead(input) : null;
    let extracted: ExtractedMessage | null = null;
    let parseError: unknown = null;
    try {
      extracted = await deps.mimeReaders.extract(input.pipe(guard), workDir, {}, cutOff);
    } catch (error) {
      parseError = error;
    }
    // Whatever the parser did, read the transaction to its end before answering.
    input.resume();
    if (cutOff.aborted) {
      // Nobody hears this answer (or the DATA deadline already gave its 421); what matters is that the work ends.
      tx.log.info({ err: cutOff.reason }, 'the message stopped before its end; nothing was queued');
      throw replies.incomplete();
    }
    if (guard.exceeded || (input as Readable & { sizeExceeded?: boolean }).sizeExceeded) {
      tx.log.info({ bytes: guard.bytes }, 'message over the size limit');
      throw replies.tooLarge(formatBytes(tx.maxMessageSize));
    }
    if (parseError instanceof FaxError && parseError.code === 'storage_unavailable') {
      tx.log.error({ err: parseError }, 'message not read: its work folder could not be written');
      throw replies.unavailable('Fax storage');
    }
    if (parseError instanceof FaxError && parseError.retryable) {
      // The MIME reader stopped under this message for a reason of its own: not the message's fault.
      tx.log.warn({ err: parseError }, 'message not read: its reader stopped');
      throw replies.readerUnavailable();
    }
    if (parseError || !extracted) {
      tx.log.info({ err: parseError }, 'message could not be parsed');
      throw replies.badMime(
        parseError instanceof Error
          ? parseError.message.replace(/^the message could not be read: /, '')
          : 'malformed MIME',
      );
    }
    if (bounceHead) return await recordBounce(deps, bounceHead(), tx.log);
    return await queueFax(deps, tx, extracted, workDir);
  } finally {
    await removeWorkDir(workDir, tx.log);
  }
}

/**
 * One rmdir when the folder is empty (the usual end: the document was moved into storage), else everything. Never
 * throws: a folder left behind (logged) must not turn the transaction's answer, a 250 or the reason it was
 * refused, into another one.
 */
async function removeWorkDir(workDir: string, log: Logger): Promise<void> {
  try {
    await rmdir(workDir);
  } catch {
    await rm(workDir, { recursive: true, force: true }).catch((error: unknown) => {
      // ENOTDIR: a file where the work folders go, so the folder was never made.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        log.warn({ err: error, workDir }, 'work folder not removed');
      }
    });
  }
}

async function queueFax(
  deps: ReceiveDeps,
  tx: Transaction,
  mail: ExtractedMessage,
  workDir: string,
): Promise<string> {
  const { config, store, documents, clock } = deps;
  if (!mail.from || mail.fromCount !== 1) {
    throw replies.badFromHeader(
      'The From header must name exactly one sender, who will receive the fax receipts',
    );
  }
  const sender = mail.from.address.toLowerCase();
  const rule = findSender(config.senders, sender, config.sandbox);
  if (!rule) throw replies.senderNotAllowed(sender);
  await tx.checks?.authorizeSender(sender);

  // A resend is this sender's same Message-ID with the same documents and numbers (domain/resendKey.ts).
  const dedupeKey = mail.messageId
    ? resendKey({
        sender,
        messageId: mail.messageId,
        documentHashes: mail.documents.map((found) => found.sha256),
        numbers: tx.numbers,
      })
    : null;
  const resendSince = clock.now() - RESEND_WINDOW;
  if (dedupeKey) {
    const earlier = await store.findResentMessage(dedupeKey, resendSince);
    if (earlier) {
      tx.log.info({ messageId: mail.messageId }, 'resent message answered with its existing jobs');
      return replies.queued(earlier.jobs.map((job) => ({ id: job.id, to: job.to_number })));
    }
  }

  const earlySync = startSyncingPart(deps.documents, mail);
  const document = await prepareDocument(deps, mail, workDir, tx.log);
  await tx.checks?.checkLimits(sender, {
    faxes: tx.numbers.length,
    pages: document.pages * tx.numbers.length,
  });
  const documentId = newId('doc');
  const storageKey = `${documentId}.pdf`;
  await documents.put(storageKey, document.path, 'application/pdf', {
    sourceSynced: earlySync?.path === document.path ? earlySync.synced : undefined,
  });

  const now = clock.now();
  const messageRowId = newId('msg');
  const jobs = await store.acceptMessage(
    {
      document: {
        id: documentId,
        storage_key: storageKey,
        sha256: document.sha256,
        size: document.size,
        pages: document.pages,
        filename: document.filename,
        created_at: now,
      },
      message: {
        id: messageRowId,
        sender,
        sender_name: mail.from.name || null,
        envelope_from: tx.envelopeFrom || null,
        message_id: mail.messageId,
        subject: mail.subject,
        references_json: JSON.stringify([...mail.references, ...(mail.messageId ? [mail.messageId] : [])]),
        document_id: documentId,
        session_id: tx.sessionId,
        received_at: now,
        dedupe_key: dedupeKey,
        cover_json: JSON.stringify(
          makeCoverInfo(mail.text, mail.recipients, tx.numbers, (local) => {
            const verdict = parseFaxNumber(local, config.smtp.default_country);
            return verdict.ok ? verdict.e164 : null;
          }),
        ),
      },
      jobs: tx.numbers.map((to) => ({ id: newId('fx'), to_number: to, from_number: rule.fromNumber })),
      max_attempts: config.retry.max_attempts,
      accepted_receipt: config.receipts.on_accepted,
      resend_since: resendSince,
    },
    now,
  );
  if (jobs.some((job) => job.message_row_id !== messageRowId)) {
    // Another session stored this very mail while we prepared it: answer as to any resend, keep no copy.
    tx.log.info(
      { messageId: mail.messageId },
      'same message delivered twice at once; answered with its jobs',
    );
    await documents.delete(storageKey).catch((error: unknown) => {
      tx.log.warn({ err: error, key: storageKey }, 'could not delete the unused copy of a resent document');
    });
    return replies.queued(jobs.map((job) => ({ id: job.id, to: job.to_number })));
  }
  for (const job of jobs) {
    tx.log.info({ job: job.id, to: job.to_number, pages: document.pages, sender }, 'fax queued');
  }
  return replies.queued(jobs.map((job) => ({ id: job.id, to: job.to_number })));
}

/**
 * The fsync of the saved document, started now so that it runs while the sandbox checks it: a single PDF faxed as
 * it came is the very file stored, and storing it then waits for no fsync of its own. Only then: parts that are
 * converted or merged are replaced by another file (synced when stored), and syncing them would only load the
 * disk. Local storage only (S3 uploads the bytes instead). A failure is heard by the put that awaits it, or by
 * nobody when the part is not what gets stored after all (prepared, decrypted).
 */
function startSyncingPart(
  documents: DocumentStorage,
  mail: ExtractedMessage,
): { path: string; synced: Promise<void> } | undefined {
  const [only, ...more] = mail.documents;
  if (documents.driver !== 'local' || !only || more.length > 0 || only.kind.kind !== 'pdf') return undefined;
  const synced = fsyncFile(only.path);
  synced.catch(() => undefined);
  return { path: only.path, synced };
}

/** Never faxed, never answered with a bounce of our own: noted on the receipt's outbox row and logged. */
async function recordBounce(deps: ReceiveDeps, head: string, log: Logger): Promise<string> {
  const bounce = findReceiptBounce(head);
  if (!bounce) {
    log.warn('mail to the receipts address names no receipt of ours; accepted and dropped');
    return '2.0.0 Accepted; it names no fax receipt of this gateway';
  }
  const known = await deps.store.recordReceiptBounce(bounce.jobId, bounce.kind, bounce.detail);
  log.warn({ job: bounce.jobId, kind: bounce.kind, detail: bounce.detail, known }, 'a receipt bounced');
  return `2.0.0 Bounce recorded against ${bounce.jobId}`;
}

/** Converts every document to PDF, checks each, then merges several into one in the order they appeared. */
async function prepareDocument(
  deps: ReceiveDeps,
  mail: ExtractedMessage,
  workDir: string,
  log: Logger,
): Promise<FaxDocument> {
  const { documents: settings } = deps.config;
  const pdfs: FaxPdf[] = await convertParts(mail.documents, {
    options: { paper: settings.paper, timeoutMs: settings.convert_timeout, office: settings.office },
    officeSlots: deps.officeSlots,
    log,
  }).catch((error: unknown) => {
    if (!(error instanceof DocumentRefused)) throw error;
    log.info({ file: error.filename, code: error.code, problem: error.message }, 'document refused');
    throw replies.refusedDocument(error.filename, error.code, error.message);
  });
  if (pdfs.length === 0) {
    // A winmail.dat with nothing inside but its text is named too: the sender thinks they attached something.
    const parts = [...mail.documents, ...mail.others];
    const found = parts.length
      ? `found: ${parts.map((part) => `${part.filename} (${part.contentType})`).join(', ')}`
      : 'the message has no attachments';
    throw replies.noPdf(found);
  }
  return assembleFaxPdf(pdfs, workDir, log).catch((error: unknown) => {
    if (error instanceof FaxDocumentRefused) throw replies.badPdf(error.filename, error.problem);
    throw error;
  });
}
