import type Router from '@koa/router';

import { hashPassword, verifyPassword } from '../lib/passwordHash.js';
import type { ConsoleKit } from './consoleKit.js';
import { cookieOptions } from './guard.js';
import { signInPage } from './pages/signInPage.js';
import { SESSION_TTL_MS } from './sessionCookie.js';
import { makeSignInThrottle, MAX_FAILURES } from './signInThrottle.js';
import { clientAddress, SESSION_COOKIE } from './viewer.js';

/** Where to go after signing in: only a console path of ours, never another site. */
function safeNext(next: string | undefined): string {
  return next && /^\/console\/[^/\\]/.test(next) && !next.includes('//') ? next : '/console/jobs';
}

export function addSignInRoutes(router: Router, kit: ConsoleKit): void {
  const { deps, codec } = kit;
  const throttle = makeSignInThrottle();
  // Unknown accounts are checked against a real hash too, so the answer time does not tell which exist.
  let decoy: Promise<string> | null = null;

  router.get('/console/sign-in', (ctx) => {
    if (ctx.state.consoleViewer) return ctx.redirect(safeNext(ctx.query.next as string | undefined));
    kit.render(
      ctx,
      signInPage(kit.frame(ctx), { next: typeof ctx.query.next === 'string' ? ctx.query.next : '' }),
    );
  });

  router.post('/console/sign-in', async (ctx) => {
    const form = await kit.form(ctx);
    const email = (form.get('email') ?? '').trim().toLowerCase().slice(0, 254);
    const password = form.get('password') ?? '';
    const next = form.get('next');
    const now = deps.clock.now();
    const keys = [`account:${email}`, `address:${clientAddress(ctx)}`];
    const refuse = async (status: number, problem: string, action: string) => {
      await kit.audit(ctx, action, 'session', email || '(none)');
      kit.render(ctx, signInPage(kit.frame(ctx), { email, problem, next }), status);
    };
    const lockedUntil = throttle.lockedUntil(keys, now);
    if (lockedUntil !== null) {
      const minutes = Math.ceil((lockedUntil - now) / 60_000);
      return refuse(
        429,
        `Too many failed sign-ins for this account or from this address. Sign-in is refused for ${minutes} more minute(s), even with the right password.`,
        'sign_in_locked',
      );
    }
    const user = deps.config.console.users.find((candidate) => candidate.email === email);
    decoy ??= hashPassword('not a password of anybody');
    const ok = await verifyPassword(password, user?.password_hash ?? (await decoy));
    if (!ok || !user?.password_hash) {
      throttle.recordFailure(keys, now);
      const locked = throttle.lockedUntil(keys, now) !== null;
      return refuse(
        401,
        locked
          ? `Wrong email or password. After ${MAX_FAILURES} failed sign-ins, sign-in is refused for 15 minutes, even with the right password.`
          : 'Wrong email or password.',
        'sign_in_failed',
      );
    }
    throttle.forgive(keys[0]!);
    const { cookie } = codec.issue(user.email, now);
    ctx.cookies.set(SESSION_COOKIE, cookie, cookieOptions(ctx, SESSION_TTL_MS));
    ctx.state.consoleViewer = { email: user.email, role: user.role, via: 'password' };
    await kit.audit(ctx, 'sign_in', 'session', user.email);
    ctx.status = 303;
    ctx.redirect(safeNext(next));
  });

  router.post('/console/sign-out', async (ctx) => {
    await kit.form(ctx);
    const session = ctx.state.consoleSession as Parameters<typeof codec.revoke>[0] | null;
    if (session) codec.revoke(session, deps.clock.now());
    ctx.cookies.set(SESSION_COOKIE, '', cookieOptions(ctx, 0));
    await kit.audit(ctx, 'sign_out', 'session', kit.viewer(ctx).email);
    ctx.status = 303;
    ctx.redirect('/console/sign-in');
  });
}
