import { randomUUID } from 'node:crypto';

import { expect } from 'vitest';

import type { Simulator } from '../../src/simulator/index.js';
import type { AttemptRow, JobRow } from '../../src/store/jobStore.js';
import { encodeClientState } from '../../src/telnyx/client.js';
import { makePdf } from './pdfFixtures.js';
import { sendMail, type TestDaemon, waitFor } from './testDaemon.js';

/**
 * What tests of the webhook path need from an outgoing fax: a real job placed through the daemon and Telnyx
 * (the simulator), whose own events were dropped so that it waits for the events the test sends, and the body of
 * such an event, as Telnyx writes it (docs/telnyx.md §6).
 */
export interface PlacedFax {
  job: JobRow;
  attempts: AttemptRow[];
  faxId: string;
}

/** Mails one fax to `to` and waits until its job is `placed`; the simulator drops its webhooks from now on. */
export async function placeFaxWithoutEvents(
  env: TestDaemon,
  simulator: Simulator,
  to: string,
  pages: number,
): Promise<PlacedFax> {
  simulator.webhookMode('drop');
  const sent = await sendMail(env.smtpPort, {
    from: 'alice@example.com',
    to: `${to}@fax.localhost`,
    subject: 'Webhook target',
    attachments: [{ filename: 'doc.pdf', content: await makePdf(pages), contentType: 'application/pdf' }],
  });
  expect(sent.code).toBe(250);
  await waitFor(() => simulator.faxes().find((fax) => fax.to === to && fax.status === 'delivered'));
  await simulator.waitForIdle();
  const job = await waitFor(async () => {
    const rows = await env.daemon.store.listJobs({});
    return rows.find((row) => row.to_number === to && row.status === 'placed') ?? null;
  });
  const attempts = await env.daemon.store.listAttempts(job.id);
  return { job, attempts, faxId: attempts[0]!.fax_id! };
}

export interface DeliveredEventOptions {
  jobId: string;
  attempt: number;
  faxId: string;
  to: string;
  pages: number;
  /** Where Telnyx says it delivered the event (`meta.delivered_to`). */
  webhookUrl: string;
  id?: string;
}

/** A `fax.delivered` event body for the given job's attempt (its `client_state`) and fax. */
export function deliveredEventBody(options: DeliveredEventOptions): string {
  return JSON.stringify({
    data: {
      record_type: 'event',
      id: options.id ?? randomUUID(),
      event_type: 'fax.delivered',
      occurred_at: new Date().toISOString(),
      payload: {
        fax_id: options.faxId,
        client_state: encodeClientState(options.jobId, options.attempt),
        direction: 'outbound',
        status: 'delivered',
        to: options.to,
        page_count: options.pages,
        call_duration_secs: 31,
      },
    },
    meta: { attempt: 1, delivered_to: options.webhookUrl },
  });
}
