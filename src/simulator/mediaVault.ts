import { randomBytes } from 'node:crypto';

/**
 * Signed, expiring download links for received faxes, standing in for Telnyx's presigned S3 URLs: the
 * `fax.received` media_url is valid for about 10 minutes (docs/telnyx.md §5.2), answers 403 once expired,
 * and `POST /faxes/{id}/actions/refresh` issues a fresh one (read back with GET /faxes/{id}). Older links keep
 * working until their own expiry, as presigned URLs do.
 */
export interface MediaVault {
  /** Issues a new link for `faxId`, valid for `ttlMs` from now. */
  issue(faxId: string, ttlMs: number): string;
  /** Issues a new link with the fax's last TTL; null when the fax never had one. */
  renew(faxId: string): string | null;
  check(faxId: string, token: string | null): 'ok' | 'expired' | 'unknown';
}

export const MEDIA_PATH_PREFIX = '/media/inbound/';

export function makeMediaVault(clock: () => number, origin: () => string): MediaVault {
  const tokens = new Map<string, { faxId: string; expiresAt: number }>();
  const ttls = new Map<string, number>();

  function issue(faxId: string, ttlMs: number): string {
    const token = randomBytes(16).toString('hex');
    const expiresAt = clock() + ttlMs;
    tokens.set(token, { faxId, expiresAt });
    ttls.set(faxId, ttlMs);
    const expires = Math.floor(expiresAt / 1000);
    return `${origin()}${MEDIA_PATH_PREFIX}${faxId}.pdf?token=${token}&expires=${expires}`;
  }

  return {
    issue,
    renew(faxId) {
      const ttl = ttls.get(faxId);
      return ttl === undefined ? null : issue(faxId, ttl);
    },
    check(faxId, token) {
      const entry = token === null ? undefined : tokens.get(token);
      if (!entry || entry.faxId !== faxId) return 'unknown';
      return clock() >= entry.expiresAt ? 'expired' : 'ok';
    },
  };
}

/** What S3 answers for an expired presigned URL, near enough for a client that only looks at the status. */
export function accessDeniedXml(message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`;
}
