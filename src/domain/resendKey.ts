import { createHash } from 'node:crypto';

/**
 * What makes a mail a resend of an earlier one: the same sender (header From), the same Message-ID, the same
 * documents in the same order and the same fax numbers. A client that lost our 250 sends exactly that again and
 * must not fax twice; a script that stamps every message with one Message-ID sends different documents or
 * numbers, and each of those is a new fax that must not be dropped.
 */
export interface ResendIdentity {
  /** Header From address, lower case. */
  sender: string;
  messageId: string;
  /** sha256 (hex) of each PDF as attached, in the order they appear. */
  documentHashes: readonly string[];
  /** E.164 fax numbers; their order in the envelope does not matter. */
  numbers: readonly string[];
}

/** A fixed-length key (hex sha256) for the identity, stored on the message under a unique index. */
export function resendKey(identity: ResendIdentity): string {
  const canonical = JSON.stringify([
    identity.sender.trim().toLowerCase(),
    identity.messageId,
    [...identity.documentHashes],
    [...new Set(identity.numbers)].sort(),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
