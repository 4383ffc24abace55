import type { Ctx } from '../context.js';
import { makeConversionSlots } from '../documents/convert/conversionSlots.js';
import { announceOfficeConverter } from '../documents/convert/findOfficeConverter.js';
import { startMimeReaders } from '../documents/mimeReaders/mimeReaders.js';
import type { Stoppable } from '../lib/stopStack.js';
import { MINUTE } from '../lib/units.js';
import { type SmtpListener, startSmtpListener } from './server.js';

/** Office conversions at once, and waiting behind them, before a sender is told to retry later (451). */
const OFFICE_RUNNING = 2;
const OFFICE_WAITING = 8;
/** Longest a stop waits for SMTP sessions in DATA, whatever the grace: a 421 then tells them to retry. */
const MAX_DATA_GRACE = 5 * MINUTE;

/**
 * The SMTP listener, started last so nothing is accepted before every worker is running. What it queues
 * or refuses is said on the event bus (the runner and the outbox wake, counters go up).
 */
export async function startSmtp(ctx: Ctx): Promise<Stoppable & { listener: SmtpListener }> {
  const { events } = ctx;
  const mimeReaders = startMimeReaders(ctx.tuning.mimeReaders ?? {}, ctx.log.child({ component: 'smtp' }));
  const listener = await startSmtpListener({
    config: ctx.config,
    store: ctx.store,
    documents: ctx.documents,
    clock: ctx.clock,
    // One per daemon: every SMTP session's Office files share it.
    officeSlots: makeConversionSlots(OFFICE_RUNNING, OFFICE_WAITING),
    mimeReaders,
    log: ctx.log.child({ component: 'smtp' }),
    onQueued: (jobs) => events.emit('messageQueued', { jobs, via: 'smtp' }),
    onRejected: (reason) => events.emit('smtpRejected', { reason }),
    onDataActivity: () => events.emit('mailArriving', undefined),
    dnsResolver: ctx.tuning.dnsResolver,
  });
  // Which converter Office attachments meet (LibreOffice's version and path, Gotenberg's URL, or off), said once.
  const announcing = new AbortController();
  void announceOfficeConverter(
    ctx.config.documents.office,
    ctx.log.child({ component: 'documents' }),
    announcing.signal,
  );
  return {
    listener,
    // Stops listening at once; DATA in progress gets the grace (capped), then 421.
    stop: (stopping) => {
      announcing.abort();
      // The MIME readers stop once no DATA is left to read.
      return listener.close(Math.min(stopping.graceMs, MAX_DATA_GRACE)).finally(() => mimeReaders.close());
    },
  };
}
