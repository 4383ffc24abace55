import { randomBytes, timingSafeEqual } from 'node:crypto';

import type Koa from 'koa';

import { type ConsoleForm, FormError, readForm } from './forms.js';
import type { SessionCodec } from './sessionCookie.js';

/*
 * What every console answer carries (a strict CSP, no framing, no caching of pages with fax data) and what
 * every state-changing request must show: a same-origin Origin header and the form's CSRF token. The token is
 * the HMAC of a random HttpOnly SameSite=Strict cookie, so another site can neither read nor forge it.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const CSRF_COOKIE = 'fb_csrf';
export const CSRF_FIELD = '_csrf';

export function setSecurityHeaders(ctx: Koa.Context): void {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
}

export function cookieOptions(ctx: Koa.Context, maxAge?: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/console',
    secure: ctx.protocol === 'https',
    overwrite: true,
    ...(maxAge === undefined ? {} : { maxAge }),
  };
}

/** The CSRF token for this browser's forms, setting the cookie it is derived from on first sight. */
export function csrfToken(ctx: Koa.Context, codec: SessionCodec): string {
  let seed = ctx.cookies.get(CSRF_COOKIE);
  if (!seed || !/^[A-Za-z0-9_-]{20,64}$/.test(seed)) {
    seed = randomBytes(24).toString('base64url');
    ctx.cookies.set(CSRF_COOKIE, seed, cookieOptions(ctx));
  }
  return codec.mac('csrf', seed);
}

/**
 * Reads the form of a state-changing request and checks it came from our own page; throws FormError 403
 * otherwise. The Origin check comes first, before the body is read at all.
 */
export async function readCheckedForm(
  ctx: Koa.Context,
  codec: SessionCodec,
  uploadLimit: number,
): Promise<ConsoleForm> {
  if (!sameOrigin(ctx)) throw new FormError(403, 'this form was not sent from the console page itself');
  const form = await readForm(ctx, uploadLimit);
  const seed = ctx.cookies.get(CSRF_COOKIE);
  const given = Buffer.from(form.get(CSRF_FIELD) ?? '');
  const expected = Buffer.from(seed ? codec.mac('csrf', seed) : '');
  if (expected.length === 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new FormError(
      403,
      'this form has expired or did not come from the console; reload the page and try again',
    );
  }
  return form;
}

/** Browsers send Origin on every POST; it must name the host this request was addressed to. */
function sameOrigin(ctx: Koa.Context): boolean {
  const origin = ctx.get('origin');
  if (!origin || origin === 'null') return false;
  try {
    return new URL(origin).host === ctx.host;
  } catch {
    return false;
  }
}
