/**
 * The web console's "send it again by email" for a received fax: the same `fax` mail the inbound worker queues,
 * to the addresses the fax is routed to now, written to the outbox with the audit entry in one transaction
 * (store.queueInboundResend). Each re-send has its own id, so its mail has its own Message-ID; the outbox
 * rebuilds it from the row, so a crash-repeat of one re-send carries the same one. The id comes with the page's
 * form (newResendId), so the same form sent twice (a double click) queues one mail.
 */
import type { Config } from '../config/loadConfig.js';
import { newId } from '../lib/ids.js';
import type { AuditEntry, InboundFaxRow, JobStore } from '../store/jobStore.js';
import { inboundMailEntry, routeInbound } from './routing.js';

export type ResendOutcome =
  /** `already`: this form was sent before and its mail is queued; nothing more was written. */
  | { kind: 'queued'; to: string[]; already: boolean }
  /** In plain words, for the page: why nothing was queued. */
  | { kind: 'refused'; reason: string };

const RESEND_ID = /^rs_[A-Za-z0-9_-]{16}$/;

/** A fresh id for one re-send form; the page renders it, the POST brings it back. */
export function newResendId(): string {
  return newId('rs');
}

export function isResendId(value: string | undefined): value is string {
  return value !== undefined && RESEND_ID.test(value);
}

export async function resendInboundFax(
  deps: { config: Config; store: JobStore },
  fax: InboundFaxRow,
  resendId: string,
  audit: Omit<AuditEntry, 'id' | 'action' | 'object_type' | 'object_id' | 'detail'>,
): Promise<ResendOutcome> {
  if (!fax.document_id)
    return { kind: 'refused', reason: 'This fax has no stored document, so there is nothing to send.' };
  const route = routeInbound(deps.config, fax.to_number);
  if (!route) {
    return {
      kind: 'refused',
      reason: `No inbound route (and no admin address) names anybody for ${fax.to_number}.`,
    };
  }
  const entry = inboundMailEntry({
    fax_id: fax.fax_id,
    mail: 'fax',
    to: route.recipients,
    mode: route.mode,
    unrouted: route.unrouted,
    resend: { id: resendId, by: audit.actor, at: audit.at },
  });
  const result = await deps.store.queueInboundResend(
    fax.fax_id,
    resendId,
    entry,
    {
      ...audit,
      id: newId('au'),
      action: 'resend',
      object_type: 'inbound',
      object_id: fax.fax_id,
      detail: `to ${route.recipients.join(', ')} (${resendId})`.slice(0, 500),
    },
    audit.at,
  );
  if (result === 'gone')
    return {
      kind: 'refused',
      reason: 'The document of this fax was deleted by retention; it cannot be sent.',
    };
  return { kind: 'queued', to: route.recipients, already: result === 'already' };
}
