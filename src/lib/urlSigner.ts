import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-signed, expiring links (docs/behaviour.md §8):
 * `?expires=<unix s>&sig=<base64url HMAC-SHA256(path|expires)>`. The path is signed whole, so a link for one
 * document cannot be bent into another.
 */
export interface UrlSigner {
  sign(path: string, expiresAtMs: number): string;
  verify(
    path: string,
    query: { expires?: string; sig?: string },
    nowMs: number,
  ): 'ok' | 'expired' | 'invalid';
}

export function makeUrlSigner(secret: string): UrlSigner {
  const mac = (path: string, expires: string) =>
    createHmac('sha256', secret).update(`${path}|${expires}`).digest('base64url');
  return {
    sign(path, expiresAtMs) {
      const expires = String(Math.floor(expiresAtMs / 1000));
      return `${path}?expires=${expires}&sig=${mac(path, expires)}`;
    },
    verify(path, query, nowMs) {
      const { expires, sig } = query;
      if (!expires || !sig || !/^\d{1,12}$/.test(expires)) return 'invalid';
      const expected = Buffer.from(mac(path, expires));
      const given = Buffer.from(sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
      return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
    },
  };
}
