import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Console sessions live in a signed cookie (no server-side table, so several instances share them through the
 * common url secret): `<payload base64url>.<HMAC-SHA256 base64url>`. The key is derived from the link secret
 * with a purpose label, so a media-link signature can never pass as a session and the other way round.
 * Signing out revokes the session id in memory until it would have expired anyway.
 */

export interface SessionPayload {
  /** Signed-in email, lower-cased. */
  email: string;
  /** Random id, for revocation at sign-out. */
  sid: string;
  expiresAt: number;
}

export interface SessionCodec {
  issue(email: string, now: number): { cookie: string; payload: SessionPayload };
  /** The payload when the signature is ours, it has not expired and it was not signed out; else null. */
  verify(cookie: string | undefined, now: number): SessionPayload | null;
  revoke(payload: SessionPayload, now: number): void;
  /** HMAC of `purpose:value` with the console key (CSRF tokens). */
  mac(purpose: string, value: string): string;
}

/** A working day and a bit: an office signs in once in the morning. */
export const SESSION_TTL_MS = 12 * 3600 * 1000;
/** Revoked sessions kept in memory at most; beyond, the oldest go (they expire within SESSION_TTL_MS anyway). */
const MAX_REVOKED = 10_000;

export function deriveConsoleKey(urlSecret: string): Buffer {
  return createHmac('sha256', urlSecret).update('faxbridge console v1').digest();
}

export function makeSessionCodec(key: Buffer): SessionCodec {
  const revoked = new Map<string, number>();
  const sign = (data: string) => createHmac('sha256', key).update(`session:${data}`).digest('base64url');

  return {
    issue(email, now) {
      const payload: SessionPayload = {
        email,
        sid: randomBytes(16).toString('base64url'),
        expiresAt: now + SESSION_TTL_MS,
      };
      const data = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return { cookie: `${data}.${sign(data)}`, payload };
    },

    verify(cookie, now) {
      if (!cookie || cookie.length > 1024) return null;
      const [data, signature, extra] = cookie.split('.');
      if (!data || !signature || extra !== undefined) return null;
      const expected = Buffer.from(sign(data));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
      let payload: SessionPayload;
      try {
        payload = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as SessionPayload;
      } catch {
        return null;
      }
      if (typeof payload.email !== 'string' || typeof payload.sid !== 'string') return null;
      if (!(payload.expiresAt > now) || revoked.has(payload.sid)) return null;
      return payload;
    },

    revoke(payload, now) {
      revoked.set(payload.sid, payload.expiresAt);
      for (const [sid, until] of revoked) if (until < now) revoked.delete(sid);
      while (revoked.size > MAX_REVOKED) revoked.delete(revoked.keys().next().value!);
    },

    mac: (purpose, value) => createHmac('sha256', key).update(`${purpose}:${value}`).digest('base64url'),
  };
}
