import type Koa from 'koa';

import { coerceError, FaxError } from '../errors.js';
import { Router } from '../lib/koaRouter.js';
import type { Logger } from '../log.js';
import { addAdminRoutes } from './adminRoutes.js';
import { CONSOLE_CSS } from './consoleCss.js';
import type { ConsoleDeps } from './consoleDeps.js';
import { makeConsoleKit } from './consoleKit.js';
import { FormError } from './forms.js';
import { setSecurityHeaders } from './guard.js';
import { addInboundRoutes } from './inboundRoutes.js';
import { addJobRoutes } from './jobRoutes.js';
import { messagePage } from './pages/signInPage.js';
import { addSendRoutes } from './sendRoutes.js';
import { deriveConsoleKey, makeSessionCodec } from './sessionCookie.js';
import { addSignInRoutes } from './signInRoutes.js';
import { makeViewerResolver } from './viewer.js';

/** Reachable without a session: the sign-in form and the style sheet it uses. */
const PUBLIC_PATHS = /^\/console\/(sign-in|assets\/[A-Za-z0-9.-]+)$/;
/** Without a session, these answer 401 rather than a redirect to the sign-in page: they are not pages. */
const NOT_PAGES = /\/(document|transmitted|pages\/[^/]+)$/;

/**
 * The web console as one middleware for the HTTP app: it answers every path under /console/ and passes all
 * others on. Pages are rendered on the server; the only asset is one style sheet; no script runs.
 */
export function makeConsole(deps: ConsoleDeps): Koa.Middleware {
  const codec = makeSessionCodec(deriveConsoleKey(deps.urlSecret));
  const kit = makeConsoleKit(deps, codec);
  const resolveViewer = makeViewerResolver(deps, codec);
  const router = new Router({ sensitive: true, strict: false });

  router.get('/console', (ctx) => ctx.redirect('/console/jobs'));
  router.get('/console/', (ctx) => ctx.redirect('/console/jobs'));
  router.get(kit.cssPath, (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    // The path carries the content hash: a new style sheet is a new URL.
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.body = CONSOLE_CSS;
  });
  addSignInRoutes(router, kit);
  addJobRoutes(router, kit);
  addInboundRoutes(router, kit);
  addSendRoutes(router, kit);
  addAdminRoutes(router, kit);
  const routes = router.routes();

  return async (ctx, next) => {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) return next();
    setSecurityHeaders(ctx);
    const log = (ctx.state.log as Logger | undefined) ?? deps.log;
    try {
      const found = resolveViewer(ctx);
      ctx.state.consoleViewer = found?.viewer;
      ctx.state.consoleSession = found?.session ?? null;
      if (!found && !PUBLIC_PATHS.test(ctx.path)) return refuseAnonymous(ctx, kit);
      // Unmatched paths and methods end in the 404 page below: nothing under /console/ falls through.
      await routes(ctx as Parameters<typeof routes>[0], async () => undefined);
      if (ctx.status === 404 && ctx.body == null) kit.notFound(ctx);
    } catch (thrown) {
      if (thrown instanceof FormError) {
        kit.render(ctx, messagePage(kit.frame(ctx), 'Not accepted', thrown.message), thrown.status);
        return;
      }
      if (thrown instanceof FaxError && thrown.code === 'not_found') return kit.notFound(ctx);
      log.error({ err: coerceError(thrown) }, 'console request failed');
      if (!ctx.headerSent) {
        kit.render(
          ctx,
          messagePage(
            kit.frame(ctx),
            'Something went wrong',
            'The console could not answer; the log has the details. Try again in a moment.',
          ),
          500,
        );
      }
    }
  };
}

/** Pages send the browser to the sign-in form (and back afterwards); everything else is plainly 401. */
function refuseAnonymous(ctx: Koa.Context, kit: ReturnType<typeof makeConsoleKit>): void {
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && !NOT_PAGES.test(ctx.path)) {
    ctx.status = 303;
    ctx.redirect(
      `/console/sign-in?next=${encodeURIComponent(ctx.path + (ctx.querystring ? `?${ctx.querystring}` : ''))}`,
    );
    return;
  }
  kit.render(ctx, messagePage(kit.frame(ctx), 'Sign in first', 'This needs a signed-in console user.'), 401);
}
