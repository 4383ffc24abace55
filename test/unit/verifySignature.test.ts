import { describe, expect, it } from 'vitest';

import { FaxError } from '../../src/errors.js';
import {
  makeSignatureVerifier,
  type SignatureVerifier,
  signedPrefix,
} from '../../src/http/verifySignature.js';
import {
  makeWebhookKeyPair,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../helpers/signWebhook.js';

const NOW_SEC = 1_790_000_000;
const key = makeWebhookKeyPair(1);
const otherKey = makeWebhookKeyPair(2);
const verify = makeSignatureVerifier(key.publicKeyBase64, { now: () => NOW_SEC * 1000 });
const body = Buffer.from('{"data":{"id":"e1","event_type":"fax.delivered"}}');

/** What the webhook route does with a request: the headers checked first, then the signature over the body. */
async function verifyRequest(
  verifier: SignatureVerifier,
  rawBody: Buffer,
  signature: string | undefined,
  timestamp: string | undefined,
) {
  const headers = verifier.checkHeaders(signature, timestamp);
  if (!headers.ok || !signature || !timestamp) return headers;
  return verifier.verifyMessage(
    Buffer.concat([Buffer.from(signedPrefix(timestamp), 'ascii'), rawBody]),
    signature,
  );
}

/** Signs `payload` and runs the verifier on `checked` (defaults to the same bytes) with the produced headers. */
function check(
  payload: Buffer,
  options: { ts?: number | string; secretKey?: Uint8Array; checked?: Buffer } = {},
) {
  const headers = signWebhook(payload, options.secretKey ?? key.secretKey, options.ts ?? NOW_SEC);
  return verifyRequest(
    verify,
    options.checked ?? payload,
    headers[SIGNATURE_HEADER],
    headers[TIMESTAMP_HEADER],
  );
}

describe('makeSignatureVerifier', () => {
  it('accepts a tweetnacl signature over timestamp|body', async () => {
    expect(await check(body)).toEqual({ ok: true });
  });

  it('refuses a body changed after signing', async () => {
    const changed = Buffer.from(body.toString().replace('delivered', 'failed'));
    expect(await check(body, { checked: changed })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a signature made with another key', async () => {
    expect(await check(body, { secretKey: otherKey.secretKey })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a signature made for another timestamp', async () => {
    const headers = signWebhook(body, key.secretKey, NOW_SEC);
    expect(await verifyRequest(verify, body, headers[SIGNATURE_HEADER], String(NOW_SEC + 1))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it.each([
    ['300 s old', -300, true],
    ['300 s ahead', 300, true],
    ['301 s old', -301, false],
    ['301 s ahead', 301, false],
  ])('timestamp %s → ok=%s', async (_label, offset, ok) => {
    const result = await check(body, { ts: NOW_SEC + offset });
    expect(result).toEqual(ok ? { ok: true } : { ok: false, reason: 'stale_timestamp' });
  });

  it('honours a custom tolerance', async () => {
    const strict = makeSignatureVerifier(key.publicKeyBase64, {
      toleranceSec: 10,
      now: () => NOW_SEC * 1000,
    });
    const headers = signWebhook(body, key.secretKey, NOW_SEC - 11);
    expect(await verifyRequest(strict, body, headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER])).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it.each([
    ['no signature', undefined, String(NOW_SEC)],
    ['no timestamp', 'c2ln', undefined],
    ['empty signature', '', String(NOW_SEC)],
  ])('refuses %s as missing_headers', async (_label, signature, timestamp) => {
    expect(await verifyRequest(verify, body, signature, timestamp)).toEqual({
      ok: false,
      reason: 'missing_headers',
    });
  });

  it.each(['abc', '1790000000.5', '-1790000000', ' 1790000000', '1e9', '9'.repeat(16)])(
    'refuses timestamp %j as bad_timestamp',
    async (timestamp) => {
      const signature = signWebhook(body, key.secretKey, NOW_SEC)[SIGNATURE_HEADER];
      expect(await verifyRequest(verify, body, signature, timestamp)).toEqual({
        ok: false,
        reason: 'bad_timestamp',
      });
    },
  );

  it('refuses a signature that is not 64 bytes of Base64', async () => {
    const signature = signWebhook(body, key.secretKey, NOW_SEC)[SIGNATURE_HEADER]!;
    expect(await verifyRequest(verify, body, signature.slice(0, 40), String(NOW_SEC))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(await verifyRequest(verify, body, 'not base64 at all!', String(NOW_SEC))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('verifies over bytes, so a body with an invalid UTF-8 byte still verifies', async () => {
    const withBadByte = Buffer.concat([
      Buffer.from('{"data":{"id":"e1","note":"'),
      Buffer.from([0xff]),
      Buffer.from('"}}'),
    ]);
    expect(await check(withBadByte)).toEqual({ ok: true });
    // The string round trip most body parsers do turns 0xff into U+FFFD and breaks the signature.
    expect(await check(withBadByte, { checked: Buffer.from(withBadByte.toString('utf8')) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('uses the real clock by default', async () => {
    const realClock = makeSignatureVerifier(key.publicKeyBase64);
    const headers = signWebhook(body, key.secretKey);
    expect(
      await verifyRequest(realClock, body, headers[SIGNATURE_HEADER], headers[TIMESTAMP_HEADER]),
    ).toEqual({ ok: true });
  });

  it.each([
    ['empty', ''],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['a 64-byte secret key', Buffer.from(key.secretKey).toString('base64')],
  ])('throws a config error at construction for a %s public key', (_label, publicKey) => {
    expect(() => makeSignatureVerifier(publicKey)).toThrow(FaxError);
    try {
      makeSignatureVerifier(publicKey);
    } catch (error) {
      expect((error as FaxError).code).toBe('config');
    }
  });
});
