import { createPublicKey, type KeyObject, verify } from 'node:crypto';

import { FaxError } from '../errors.js';
import { SECOND } from '../lib/units.js';

/**
 * Telnyx signs `${telnyx-timestamp}|${raw body bytes}` with Ed25519 (docs/telnyx.md §6). This is NOT the
 * Standard Webhooks HMAC scheme that telnyx-node ≥ 7 `webhooks.unwrap()` checks, so we verify ourselves.
 */
export type VerifyFailure = 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };
export interface SignatureVerifier {
  /**
   * Every check that needs no body: both headers present, the timestamp well formed and within the window, the
   * signature 64 bytes. Run before the body is read, so a request that cannot be valid costs no memory.
   */
  checkHeaders(signature: string | undefined, timestamp: string | undefined): VerifyResult;
  /**
   * The signature check, run on libuv's thread pool (node:crypto's `verify` with a callback) so the
   * event loop goes on parsing and answering other requests meanwhile; Ed25519 is the largest share of a
   * webhook's CPU (docs/dependencies.md, node:crypto). `message` is already `signedPrefix(timestamp)` followed
   * by the raw body (the route reads the body straight into it, so nothing is copied here), and the headers
   * have passed `checkHeaders`.
   */
  verifyMessage(message: Buffer, signature: string): Promise<VerifyResult>;
}

/** What Telnyx signs before the body: the timestamp header's value and a bar (docs/telnyx.md §6). */
export function signedPrefix(timestamp: string): string {
  return `${timestamp}|`;
}

export interface SignatureVerifierOptions {
  /** Allowed distance between the signed timestamp and now, in seconds, checked in both directions. */
  toleranceSec?: number;
  /** Current time in milliseconds (same unit as `Clock.now()`); injected so tests never wait. */
  now?: () => number;
}

/** Telnyx's own SDKs (node `TelnyxWebhook`, python `TIMESTAMP_TOLERANCE_SECONDS`) use 5 minutes. */
const DEFAULT_TOLERANCE_SEC = 300;
/** DER SubjectPublicKeyInfo header for a raw 32-byte Ed25519 key (RFC 8410 §4), so node:crypto can import it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PUBLIC_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
/** Unix seconds as a decimal string; 15 digits keeps the value an exact integer in a double. */
const TIMESTAMP_PATTERN = /^\d{1,15}$/;

/**
 * Builds the verifier once per configured key. The KeyObject is imported here and reused: rebuilding it on
 * every request roughly halves throughput, and node:crypto is ~75× faster than tweetnacl (see
 * docs/dependencies.md, node:crypto).
 * Throws a `config` FaxError at boot when the key is not the Base64 of 32 bytes.
 */
export function makeSignatureVerifier(
  publicKeyBase64: string,
  options: SignatureVerifierOptions = {},
): SignatureVerifier {
  const key = importEd25519PublicKey(publicKeyBase64);
  const toleranceMs = (options.toleranceSec ?? DEFAULT_TOLERANCE_SEC) * SECOND;
  const now = options.now ?? Date.now;

  const checkHeaders: SignatureVerifier['checkHeaders'] = (signature, timestamp) => {
    if (!signature || !timestamp) return refuse('missing_headers');
    if (!TIMESTAMP_PATTERN.test(timestamp)) return refuse('bad_timestamp');
    // Both directions: a timestamp far in the future is as suspect as an old one (replay with a skewed clock).
    if (Math.abs(now() - Number(timestamp) * SECOND) > toleranceMs) return refuse('stale_timestamp');
    if (Buffer.from(signature, 'base64').length !== ED25519_SIGNATURE_BYTES) return refuse('bad_signature');
    return { ok: true };
  };

  const verifyMessage: SignatureVerifier['verifyMessage'] = (message, signature) =>
    new Promise((resolve) => {
      const done = (error: Error | null, valid: boolean): void =>
        resolve(!error && valid ? { ok: true } : refuse('bad_signature'));
      try {
        verify(null, message, key, Buffer.from(signature, 'base64'), done);
      } catch {
        // Malformed input may be refused before the job is queued, by throwing rather than calling back.
        resolve(refuse('bad_signature'));
      }
    });
  return { checkHeaders, verifyMessage };
}

function refuse(reason: VerifyFailure): VerifyResult {
  return { ok: false, reason };
}

function importEd25519PublicKey(publicKeyBase64: string): KeyObject {
  const raw = Buffer.from(publicKeyBase64.trim(), 'base64');
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new FaxError(
      'config',
      `telnyx.public_key must be the Base64 of a 32-byte Ed25519 key (got ${raw.length} bytes); ` +
        'copy it from Mission Control → Keys & Credentials → Public Key',
    );
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (error) {
    throw new FaxError('config', 'telnyx.public_key is not a usable Ed25519 public key', { cause: error });
  }
}
