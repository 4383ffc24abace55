import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type Router from '@koa/router';
import type Koa from 'koa';

import { findSender } from '../domain/senders.js';
import { OperatorRefusal } from '../jobs/operatorActions.js';
import { queuePdf } from '../jobs/queuePdf.js';
import { PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import type { Viewer } from './consoleDeps.js';
import type { ConsoleKit } from './consoleKit.js';
import { sendPage } from './pages/sendPage.js';

/**
 * The send page: a PDF and one or more numbers go through the same intake as `faxbridge send`, from the
 * signed-in user's `senders` entry, and get the same receipts as a fax sent by email. The cover page choice
 * travels as a `[cover]` / `[nocover]` tag in the generated message's subject.
 */
export function addSendRoutes(router: Router, kit: ConsoleKit): void {
  const { deps } = kit;
  const { config } = deps;

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
    const file = form.file('document');
    if (!file) return again('Choose the PDF to send.', 422);

    const filename = path.basename(file.name || 'document.pdf').slice(0, 200) || 'document.pdf';
    const upload = path.join(config.data_dir, 'tmp', `console-${randomBytes(6).toString('hex')}.pdf`);
    try {
      await writeFile(upload, file.bytes, { mode: PRIVATE_FILE_MODE });
      const jobs = await queuePdf(
        { config, store: deps.store, documents: deps.documents, now: () => deps.clock.now() },
        {
          sender: senderOf(kit.viewer(ctx)),
          targets,
          file: upload,
          filename,
          subject: `Fax sent from the web console ${cover ? '[cover]' : '[nocover]'}`,
          origin: 'console',
        },
      );
      deps.onQueued(jobs);
      await kit.audit(
        ctx,
        'send',
        'job',
        jobs[0]?.id ?? '',
        `${filename} to ${jobs.map((job) => job.to_number).join(', ')}`,
      );
      ctx.status = 303;
      ctx.redirect(`/console/jobs?queued=${jobs.length}`);
    } catch (error) {
      if (!(error instanceof OperatorRefusal)) throw error;
      again(error.message, 422);
    } finally {
      await rm(upload, { force: true });
    }
  });
}
