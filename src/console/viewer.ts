import type Koa from 'koa';

import { makeAddressMatcher } from '../lib/cidr.js';
import { type ConsoleDeps, isOpenSandbox, type Viewer } from './consoleDeps.js';
import type { SessionCodec, SessionPayload } from './sessionCookie.js';

export const SESSION_COOKIE = 'fb_console';

/** The peer's address: never a forwarded header, which any client can write. */
export function clientAddress(ctx: Koa.Context): string {
  return ctx.req.socket.remoteAddress ?? 'unknown';
}

/**
 * Finds who is asking: in open sandbox anybody (as an admin called `sandbox`); a `trusted_header` only when the
 * request comes from `trusted_proxies`; otherwise the session cookie, for a user still in `console.users`.
 */
export function makeViewerResolver(deps: ConsoleDeps, codec: SessionCodec) {
  const { config } = deps;
  const roleOf = (email: string) =>
    config.console.users.find((user) => user.email === email)?.role ?? ('user' as const);
  const fromProxy = makeAddressMatcher(config.console.trusted_proxies);
  const header = config.console.trusted_header?.toLowerCase();

  return (ctx: Koa.Context): { viewer: Viewer; session: SessionPayload | null } | null => {
    if (isOpenSandbox(config))
      return { viewer: { email: 'sandbox', role: 'admin', via: 'sandbox' }, session: null };
    if (header && fromProxy(clientAddress(ctx))) {
      const value = ctx.get(header).trim().toLowerCase();
      if (/^[^\s@<>]+@[^\s@<>]+$/.test(value))
        return { viewer: { email: value, role: roleOf(value), via: 'proxy' }, session: null };
    }
    const session = codec.verify(ctx.cookies.get(SESSION_COOKIE), deps.clock.now());
    if (!session) return null;
    const user = config.console.users.find((candidate) => candidate.email === session.email);
    if (!user?.password_hash) return null;
    return { viewer: { email: user.email, role: user.role, via: 'password' }, session };
  };
}
