import type Router from '@koa/router';
import type Koa from 'koa';

import { findSender } from '../domain/senders.js';
import { OperatorRefusal } from '../jobs/operatorActions.js';
import { makeUploadIntake } from '../jobs/queueUploads.js';
import type { Viewer } from './consoleDeps.js';
import type { ConsoleKit } from './consoleKit.js';
import { sendPage } from './pages/sendPage.js';

/**
 * The send page: documents as an email would carry them (PDFs, photos, scans, TIFFs, text and Office files; see
 * jobs/queueUploads.ts) and one or more numbers go through the same intake as `faxbridge send`, from the
 * signed-in user's `senders` entry, and get the same receipts as a fax sent by email. The cover page choice
 * travels as a `[cover]` / `[nocover]` tag in the generated message's subject.
 */
export function addSendRoutes(router: Router, kit: ConsoleKit): void {
  const { deps } = kit;
  const { config } = deps;
  const intake = makeUploadIntake({
    config,
    store: deps.store,
    documents: deps.documents,
    now: () => deps.clock.now(),
    log: deps.log,
  });

  /** Open sandbox has no signed-in address; its faxes go out for a console address of the first fax domain. */
  const senderOf = (viewer: Viewer) =>
    viewer.via === 'sandbox' ? `console@${config.smtp.domains[0] ?? 'fax.localhost'}` : viewer.email;
  const fromNumberOf = (ctx: Koa.Context) =>
    findSender(config.senders, senderOf(kit.viewer(ctx)), config.sandbox)?.fromNumber ?? null;

  router.get('/console/send', (ctx) => {
    kit.render(ctx, sendPage(kit.frame(ctx), { fromNumber: fromNumberOf(ctx) }));
  });

  router.post('/console/send', async (ctx) => {
    const form = await kit.form(ctx);
    const fromNumber = fromNumberOf(ctx);
    const numbersText = (form.get('numbers') ?? '').slice(0, 10_000);
    const cover = form.get('cover') === 'on';
    const again = (problem: string, status: number) =>
      kit.render(
        ctx,
        sendPage(kit.frame(ctx), { fromNumber, form: { numbers: numbersText, cover }, problem }),
        status,
      );
    if (!fromNumber) return again('Your address has no senders entry, so it cannot send faxes.', 403);
    const targets = numbersText
      .split(/[\n,;]+/)
      .map((line) => line.trim())
      .filter(Boolean);
    if (targets.length === 0) return again('Write at least one fax number.', 422);
    if (targets.length > config.smtp.max_recipients)
      return again(`At most ${config.smtp.max_recipients} numbers per fax.`, 422);
    const uploads = form.files('document');
    if (uploads.length === 0) return again('Choose the document(s) to send.', 422);

    try {
      const jobs = await intake({
        sender: senderOf(kit.viewer(ctx)),
        targets,
        uploads,
        subject: `Fax sent from the web console ${cover ? '[cover]' : '[nocover]'}`,
        origin: 'console',
      });
      deps.onQueued(jobs);
      await kit.audit(
        ctx,
        'send',
        'job',
        jobs[0]?.id ?? '',
        `${uploads.map((upload) => upload.name).join(' + ')} to ${jobs.map((job) => job.to_number).join(', ')}`,
      );
      ctx.status = 303;
      ctx.redirect(`/console/jobs?queued=${jobs.length}`);
    } catch (error) {
      if (!(error instanceof OperatorRefusal)) throw error;
      again(`Not sent: ${error.message}`, 422);
    }
  });
}
