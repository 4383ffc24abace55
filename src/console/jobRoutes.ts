import type Router from '@koa/router';
import type Koa from 'koa';

import { loadJobHistory } from '../jobs/jobHistory.js';
import { cancelJob, OperatorRefusal, retryFinishedJob } from '../jobs/operatorActions.js';
import type { JobSearch, JobStatus } from '../store/jobStore.js';
import { canSeeJob } from './access.js';
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
import { jobPage } from './pages/jobPage.js';
import { jobsPage } from './pages/jobsPage.js';

const STATUSES = new Set<string>(['queued', 'placed', 'delivered', 'failed', 'canceled']);
const NOTICES: Record<string, string> = {
  retried: 'Queued again as this new job.',
  canceled: 'The fax was canceled.',
};

export function addJobRoutes(router: Router, kit: ConsoleKit): void {
  const { deps } = kit;

  router.get('/console/jobs', async (ctx) => {
    const viewer = kit.viewer(ctx);
    const filter = {
      number: param(ctx, 'number'),
      sender: viewer.role === 'admin' ? param(ctx, 'sender') : '',
      status: STATUSES.has(param(ctx, 'status')) ? param(ctx, 'status') : '',
      date: param(ctx, 'date'),
    };
    const search: JobSearch = { limit: LIST_PAGE_SIZE + 1 };
    // A user's searches are always within their own faxes, whatever the query string says.
    if (viewer.role !== 'admin') search.sender = viewer.email;
    else if (filter.sender) search.sender = filter.sender.toLowerCase();
    if (filter.number) search.toNumberPrefix = numberPrefix(filter.number);
    if (filter.status) search.status = filter.status as JobStatus;
    const day = filter.date ? dayRange(filter.date, deps.config.timezone) : null;
    if (day) {
      search.createdFrom = day.from;
      search.createdBefore = day.before;
    }
    const cursor = parseCursor(ctx.query.before);
    if (cursor) search.before = { created_at: cursor.at, id: cursor.id };
    const rows = await deps.store.searchJobs(search);
    const { items: jobs, next } = keysetPage(rows, (job) => [job.created_at, job.id]);
    const queued = Number(param(ctx, 'queued'));
    kit.render(
      ctx,
      jobsPage(kit.frame(ctx), {
        filter,
        jobs,
        next,
        notice: queued > 0 ? `${queued} fax(es) queued. They appear below as they are sent.` : undefined,
        problem: filter.date && !day ? 'Write the date as YYYY-MM-DD.' : undefined,
      }),
    );
  });

  /** The job when the viewer may see it; otherwise answers 404 and returns null. */
  const visibleHistory = async (ctx: Koa.Context) => {
    const history = await loadJobHistory(deps.store, String(ctx.params.id));
    if (!history || !canSeeJob(kit.viewer(ctx), history.job)) {
      kit.notFound(ctx);
      return null;
    }
    return history;
  };

  /** The PDF the job transmitted (cover page, header lines) once built and still kept; null before that. */
  const transmittedOf = async (jobId: string) => {
    const sent = await deps.store.getTransmittedDocument(jobId);
    return sent && sent.deleted_at === null ? sent : null;
  };

  router.get('/console/jobs/:id', async (ctx) => {
    const history = await visibleHistory(ctx);
    if (!history) return;
    const transmitted = await transmittedOf(history.job.id);
    kit.render(ctx, jobPage(kit.frame(ctx), history, { transmitted, notice: NOTICES[param(ctx, 'done')] }));
  });

  router.get('/console/jobs/:id/document', async (ctx) => {
    const history = await visibleHistory(ctx);
    if (!history) return;
    await sendDocument(ctx, kit, history.document, 'job', history.job.id);
  });

  router.get('/console/jobs/:id/transmitted', async (ctx) => {
    const history = await visibleHistory(ctx);
    if (!history) return;
    await sendDocument(ctx, kit, await transmittedOf(history.job.id), 'job', history.job.id);
  });

  /** Previews show the pages as transmitted once that PDF exists, else the document as it was handed in. */
  router.get('/console/jobs/:id/pages/:file', async (ctx) => {
    const history = await visibleHistory(ctx);
    if (!history) return;
    const shown = (await transmittedOf(history.job.id)) ?? history.document;
    await sendPreview(ctx, kit, shown, 'job', history.job.id);
  });

  const act = (name: 'retry' | 'cancel') => async (ctx: Koa.Context) => {
    await kit.form(ctx);
    const history = await visibleHistory(ctx);
    if (!history) return;
    const viewer = kit.viewer(ctx);
    try {
      const job =
        name === 'retry'
          ? await retryFinishedJob(
              deps.store,
              history.job.id,
              deps.config.retry.max_attempts,
              deps.clock.now(),
            )
          : await cancelJob(deps.store, history.job.id, {
              cancelAtTelnyx: deps.cancelAtTelnyx,
              failedReceipt: deps.config.receipts.on_failed,
              by: `the web console, ${viewer.email}`,
              now: () => deps.clock.now(),
            });
      await kit.audit(ctx, name, 'job', history.job.id, name === 'retry' ? `new job ${job.id}` : undefined);
      if (name === 'retry') deps.onQueued([job]);
      ctx.status = 303;
      ctx.redirect(`/console/jobs/${job.id}?done=${name === 'retry' ? 'retried' : 'canceled'}`);
    } catch (error) {
      if (!(error instanceof OperatorRefusal)) throw error;
      const fresh = (await loadJobHistory(deps.store, history.job.id)) ?? history;
      const transmitted = await transmittedOf(history.job.id);
      kit.render(ctx, jobPage(kit.frame(ctx), fresh, { transmitted, problem: error.message }), 409);
    }
  };
  router.post('/console/jobs/:id/retry', act('retry'));
  router.post('/console/jobs/:id/cancel', act('cancel'));
}
