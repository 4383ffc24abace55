import { randomBytes } from 'node:crypto';

import nacl from 'tweetnacl';

/**
 * Signs webhooks exactly as Telnyx does (docs/telnyx.md §6): an Ed25519 detached signature over the UTF-8
 * bytes of `${telnyx-timestamp}|${rawBody}`, sent base64-encoded in `telnyx-signature-ed25519`, with the
 * timestamp in Unix seconds in `telnyx-timestamp`.
 */
export interface WebhookSigner {
  /** Base64 of the raw 32-byte public key, as Mission Control shows it. */
  readonly publicKey: string;
  sign(timestamp: string, rawBody: string): string;
}

const SEED_BYTES = 32;

export function makeSigner(seed?: Uint8Array): WebhookSigner {
  const keySeed = seed ?? new Uint8Array(randomBytes(SEED_BYTES));
  if (keySeed.length !== SEED_BYTES) {
    throw new Error(`signingSeed must be ${SEED_BYTES} bytes, got ${keySeed.length}`);
  }
  const keyPair = nacl.sign.keyPair.fromSeed(keySeed);
  return {
    publicKey: Buffer.from(keyPair.publicKey).toString('base64'),
    sign(timestamp, rawBody) {
      const message = new Uint8Array(Buffer.from(`${timestamp}|${rawBody}`, 'utf8'));
      return Buffer.from(nacl.sign.detached(message, keyPair.secretKey)).toString('base64');
    },
  };
}

/** Telnyx sends whole seconds as a decimal string. */
export function unixSeconds(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}
