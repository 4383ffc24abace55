/**
 * `composeOther` for the outbox: rebuilds the mail of an `inbound_fax` outbox row from the durable rows (the
 * inbound fax, its document) each time it is sent, so a resend after a crash is the same mail with the same
 * Message-ID. Links point at our HTTP listener (`/documents/<key>`, HMAC-signed) and expire when retention
 * deletes the document.
 */

import { attachablePath, removeTemporaryAttachments } from '../blobs/attachablePath.js';
import type { Ctx } from '../context.js';
import { firstPagePng } from '../documents/wire/firstPagePng.js';
import { DAY } from '../lib/units.js';
import { composeInboundFailure, composeInboundFax, type InboundFaxInput } from '../mail/composeInbound.js';
import type { OutgoingMail } from '../mail/mailer.js';
import { subjectsFromConfig } from '../mail/templates.js';
import type { DocumentRow, OutboxRow } from '../store/jobStore.js';
import { composeDownloadTrouble } from './composeDownloadTrouble.js';
import { INBOUND_OUTBOX_KIND, type InboundMailPayload } from './routing.js';

export type InboundMailDeps = Pick<Ctx, 'config' | 'store' | 'documents' | 'signer'>;

/** With `retention.days: 0` documents are kept for good; their links still expire, after a year. */
const LINK_TTL_WHEN_KEPT = 365 * DAY;

/** Null for rows of other kinds (the outbox then leaves them to their own composer). */
export function makeInboundMailComposer(
  deps: InboundMailDeps,
): (row: OutboxRow) => Promise<OutgoingMail | null> {
  return async (row) => {
    if (row.kind !== INBOUND_OUTBOX_KIND) return null;
    const payload = JSON.parse(row.payload_json) as InboundMailPayload;
    const fax = await deps.store.getInboundFax(payload.fax_id);
    if (!fax) return null;
    const { config } = deps;
    const common = {
      faxId: fax.fax_id,
      caller: fax.from_number,
      called: fax.to_number,
      recipients: payload.to,
      unrouted: payload.unrouted === true,
      timezone: config.timezone,
      from: config.mail.from,
      domain: config.smtp.hostname,
      subjects: subjectsFromConfig(config.mail.subjects),
      resend: payload.resend
        ? { id: payload.resend.id, by: payload.resend.by, at: new Date(payload.resend.at) }
        : undefined,
    };
    if (payload.mail === 'trouble') {
      return composeDownloadTrouble({
        ...common,
        receivedAt: new Date(fax.received_at),
        attempts: fax.attempts,
        detail: payload.detail ?? fax.last_error,
      });
    }
    if (payload.mail === 'failed') {
      return composeInboundFailure({
        ...common,
        failureReason: fax.failure_reason,
        failureDetail: payload.detail ?? null,
        failedAt: new Date(fax.finished_at ?? fax.updated_at),
      });
    }
    const document = fax.document_id ? await deps.store.getDocument(fax.document_id) : null;
    const mode = payload.mode ?? 'attach';
    const live = document && document.deleted_at === null ? document : null;
    const described = live ? await describeDocument(deps, live, mode !== 'notice') : undefined;
    // Only a fax whose pages the document sandbox could count is drawn: one it could not is left to the
    // recipient. The attachment's file is drawn when there is one (with S3, a copy already fetched), so the
    // document is fetched once.
    const drawable = live && mode !== 'notice' && typeof fax.pages === 'number';
    const preview = !drawable
      ? null
      : described?.path
        ? await firstPagePng(described.path)
        : await documentPreview(deps, live);
    return composeInboundFax({
      ...common,
      pages: fax.pages,
      partial: fax.partial,
      receivedAt: new Date(fax.received_at),
      durationSecs: fax.duration_secs,
      mode,
      document: described,
      maxAttachmentSize: config.mail.max_attachment_size,
      preview,
    });
  };
}

/** Both a file to attach and a link: composeInboundFax picks by mode and size, and says which it chose. */
async function describeDocument(
  deps: InboundMailDeps,
  document: DocumentRow,
  mayAttach: boolean,
): Promise<InboundFaxInput['document']> {
  const days = deps.config.retention.days;
  const expiresAt = document.created_at + (days > 0 ? days * DAY : LINK_TTL_WHEN_KEPT);
  const link = `${deps.config.http.public_url}${deps.signer.sign(`/documents/${document.storage_key}`, expiresAt)}`;
  return {
    filename: document.filename,
    size: document.size,
    path:
      mayAttach && document.size <= deps.config.mail.max_attachment_size
        ? await attachablePath(deps.documents, deps.config.data_dir, document.storage_key)
        : undefined,
    link,
    linkExpiresAt: new Date(expiresAt),
  };
}

/**
 * The received fax's first page as a PNG, drawn by pdftoppm under a time and memory limit (the PDF came from
 * outside); null when it cannot be drawn, and the mail goes without it.
 */
async function documentPreview(deps: InboundMailDeps, document: DocumentRow): Promise<Buffer | null> {
  const file = await attachablePath(deps.documents, deps.config.data_dir, document.storage_key).catch(
    () => null,
  );
  if (!file) return null;
  try {
    return await firstPagePng(file);
  } finally {
    await removeTemporaryAttachments(deps.config.data_dir, [{ path: file }]);
  }
}
