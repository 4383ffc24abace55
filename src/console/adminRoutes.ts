import type Router from '@koa/router';

import type { AuditSearch } from '../store/jobStore.js';
import { type ConsoleKit, parseCursor } from './consoleKit.js';
import { dayRange, today } from './html.js';
import { auditPage } from './pages/auditPage.js';
import { healthPage } from './pages/healthPage.js';

const AUDIT_PAGE_SIZE = 100;

/** The health page (everybody signed in) and the audit log (admins only; for others it does not exist). */
export function addAdminRoutes(router: Router, kit: ConsoleKit): void {
  const { deps } = kit;
  const { config, store } = deps;

  router.get('/console/health', async (ctx) => {
    const now = deps.clock.now();
    const since = dayRange(today(now, config.timezone), config.timezone)?.from ?? now - 24 * 3600 * 1000;
    const [queued, placed, outboxPending, outboxDead, activity, readiness] = await Promise.all([
      store.countJobs('queued'),
      store.countJobs('placed'),
      store.countOutbox('pending'),
      store.countOutbox('dead'),
      store.countActivity(since),
      deps.ready(),
    ]);
    kit.render(
      ctx,
      healthPage(kit.frame(ctx), {
        queued,
        placed,
        outboxPending,
        outboxDead,
        today: activity,
        readiness,
        telnyx: {
          target: config.sandbox
            ? 'the built-in simulator (sandbox mode)'
            : `the API at ${config.telnyx.api_url}`,
          last: deps.telnyxCalls.last(),
          lastOk: deps.telnyxCalls.lastOk(),
          startedAt: deps.startedAt,
        },
      }),
    );
  });

  router.get('/console/audit', async (ctx) => {
    if (kit.viewer(ctx).role !== 'admin') return kit.notFound(ctx);
    const search: AuditSearch = { limit: AUDIT_PAGE_SIZE + 1 };
    const cursor = parseCursor(ctx.query.before);
    if (cursor) search.before = { at: cursor.at, id: cursor.id };
    const rows = await store.listAudit(search);
    const entries = rows.slice(0, AUDIT_PAGE_SIZE);
    const last = entries.at(-1);
    kit.render(
      ctx,
      auditPage(
        kit.frame(ctx),
        entries,
        rows.length > AUDIT_PAGE_SIZE && last ? `${last.at}.${last.id}` : null,
      ),
    );
  });
}
