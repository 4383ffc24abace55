import nacl from 'tweetnacl';

/** Header names Telnyx sends with every webhook (docs/telnyx.md §6). */
export const SIGNATURE_HEADER = 'telnyx-signature-ed25519';
export const TIMESTAMP_HEADER = 'telnyx-timestamp';

export interface WebhookKeyPair {
  /** What goes into `telnyx.public_key`: Base64 of the raw 32-byte key. */
  publicKeyBase64: string;
  /** tweetnacl's 64-byte secret key (seed + public key). */
  secretKey: Uint8Array;
}

/** A deterministic key pair from a one-byte seed, so tests can make "another key" just by changing the byte. */
export function makeWebhookKeyPair(seedByte = 7): WebhookKeyPair {
  const keyPair = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(seedByte));
  return { publicKeyBase64: Buffer.from(keyPair.publicKey).toString('base64'), secretKey: keyPair.secretKey };
}

/**
 * Signs the way Telnyx does: Ed25519 over `${timestamp}|` + the exact body bytes, with tweetnacl (an
 * implementation independent of the node:crypto verifier under test). `timestamp` is Unix seconds, default now.
 */
export function signWebhook(
  body: string | Buffer,
  secretKey: Uint8Array,
  timestamp: number | string = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const timestampText = String(timestamp);
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const message = Buffer.concat([Buffer.from(`${timestampText}|`, 'utf8'), bodyBytes]);
  const signature = nacl.sign.detached(new Uint8Array(message), secretKey);
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: Buffer.from(signature).toString('base64'),
    [TIMESTAMP_HEADER]: timestampText,
  };
}
