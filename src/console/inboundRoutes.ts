import type Router from '@koa/router';
import type Koa from 'koa';

import { isResendId, newResendId, resendInboundFax } from '../inbound/resendInboundFax.js';
import { routeInbound } from '../inbound/routing.js';
import type { InboundSearch } from '../store/jobStore.js';
import { canSeeInbound, inboundScope } from './access.js';
import {
  type ConsoleKit,
  keysetPage,
  LIST_PAGE_SIZE,
  numberPrefix,
  param,
  parseCursor,
} from './consoleKit.js';
import { sendDocument, sendPreview } from './documentAnswers.js';
import { dayRange } from './html.js';
import { inboundFaxPage, inboundListPage } from './pages/inboundPages.js';
import { clientAddress } from './viewer.js';

export function addInboundRoutes(router: Router, kit: ConsoleKit): void {
  const { deps } = kit;

  router.get('/console/inbound', async (ctx) => {
    const viewer = kit.viewer(ctx);
    const filter = { caller: param(ctx, 'caller'), number: param(ctx, 'number'), date: param(ctx, 'date') };
    const search: InboundSearch = { limit: LIST_PAGE_SIZE + 1, numbers: inboundScope(deps.config, viewer) };
    if (filter.caller) search.fromNumberPrefix = numberPrefix(filter.caller);
    if (filter.number) search.toNumberPrefix = numberPrefix(filter.number);
    const day = filter.date ? dayRange(filter.date, deps.config.timezone) : null;
    if (day) {
      search.receivedFrom = day.from;
      search.receivedBefore = day.before;
    }
    const cursor = parseCursor(ctx.query.before);
    if (cursor) search.before = { received_at: cursor.at, fax_id: cursor.id };
    const rows = await deps.store.searchInboundFaxes(search);
    const { items: faxes, next } = keysetPage(rows, (fax) => [fax.received_at, fax.fax_id]);
    kit.render(
      ctx,
      inboundListPage(kit.frame(ctx), {
        filter,
        faxes,
        next,
      }),
    );
  });

  /** The fax and its document when the viewer may see it; otherwise answers 404 and returns null. */
  const visibleFax = async (ctx: Koa.Context) => {
    const fax = await deps.store.getInboundFax(String(ctx.params.id));
    if (!fax || !canSeeInbound(deps.config, kit.viewer(ctx), fax)) {
      kit.notFound(ctx);
      return null;
    }
    const document = fax.document_id ? await deps.store.getDocument(fax.document_id) : null;
    return { fax, document };
  };

  /** Who a re-send goes to now: the fax's current route (null when nobody). */
  const routedTo = (toNumber: string) => routeInbound(deps.config, toNumber)?.recipients ?? null;

  router.get('/console/inbound/:id', async (ctx) => {
    const found = await visibleFax(ctx);
    if (!found) return;
    const to = routedTo(found.fax.to_number);
    const notice =
      param(ctx, 'done') === 'resent' && to
        ? `Queued: the fax is being sent again by email to ${to.join(', ')}.`
        : undefined;
    kit.render(
      ctx,
      inboundFaxPage(kit.frame(ctx), found.fax, found.document, {
        routedTo: to,
        resendId: newResendId(),
        notice,
      }),
    );
  });

  /** Sends the fax again to its routed addresses through the outbox, like its first mail. */
  router.post('/console/inbound/:id/resend', async (ctx) => {
    const form = await kit.form(ctx);
    const found = await visibleFax(ctx);
    if (!found) return;
    const resendId = form.get('resend');
    if (!isResendId(resendId)) {
      const page = inboundFaxPage(kit.frame(ctx), found.fax, found.document, {
        routedTo: routedTo(found.fax.to_number),
        resendId: newResendId(),
        problem: 'The form was out of date, so nothing was sent. Press "Send again by email" once more.',
      });
      return kit.render(ctx, page, 400);
    }
    const outcome = await resendInboundFax(deps, found.fax, resendId, {
      at: deps.clock.now(),
      actor: kit.viewer(ctx).email,
      address: clientAddress(ctx),
    });
    if (outcome.kind === 'refused') {
      const page = inboundFaxPage(kit.frame(ctx), found.fax, found.document, {
        routedTo: routedTo(found.fax.to_number),
        resendId: newResendId(),
        problem: outcome.reason,
      });
      return kit.render(ctx, page, 409);
    }
    if (!outcome.already) deps.onMailQueued();
    ctx.status = 303;
    ctx.redirect(`/console/inbound/${encodeURIComponent(found.fax.fax_id)}?done=resent`);
  });

  router.get('/console/inbound/:id/document', async (ctx) => {
    const found = await visibleFax(ctx);
    if (found) await sendDocument(ctx, kit, found.document, 'inbound', found.fax.fax_id);
  });

  router.get('/console/inbound/:id/pages/:file', async (ctx) => {
    const found = await visibleFax(ctx);
    if (found) await sendPreview(ctx, kit, found.document, 'inbound', found.fax.fax_id);
  });
}
