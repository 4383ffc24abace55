import type { TelnyxEvent, WebhookResult } from './http/telnyxWebhook.js';
import type { JobRow, OutboxRow, Transition, WebhookEventRow } from './store/jobStore.js';

/**
 * What the daemon's components tell each other, through `ctx.events`. The emitter says what happened; the
 * listeners decide what it means to them (the runner wakes, a counter goes up), so no component calls
 * another. Every row an event talks about is committed before it is emitted; a missed event costs at most
 * one poll interval, never work.
 */
export interface DaemonEvents {
  /**
   * A message was accepted by SMTP, or a fax queued from the console: its fax jobs (and maybe an "accepted"
   * receipt) are in the database.
   */
  messageQueued: { jobs: number; via: 'smtp' | 'console' };
  /** A message's DATA began, or ended whatever was answered (queued, refused, cut off): mail is arriving. */
  mailArriving: undefined;
  /** SMTP refused a message or recipient; `reason` is the refusal's short code. */
  smtpRejected: { reason: string };
  /** The webhook route answered, with the metric label of its answer. */
  webhookAnswered: { result: WebhookResult };
  /** A webhook event was recorded for the first time and can be acted on now. */
  eventRecorded: { event: TelnyxEvent };
  /** A recorded webhook event was acted on; `outcome` says how (delivered, failed, ignored…). */
  eventDecided: { outcome: string; event: WebhookEventRow };
  /** The job runner finished an attempt on `job` (as claimed), with the transition it applied. */
  jobWorked: { job: JobRow; transition: Transition | null };
  /** Mail rows were written to the outbox: send them now rather than at the next poll. */
  outboxWritten: undefined;
  /** A received fax was recorded: its download is due now. */
  inboundRecorded: undefined;
  /** A received fax was stored and its mail queued. */
  inboundReceived: undefined;
  /** A received (or failed) incoming fax matched no route: the admin is told, or nobody can be. */
  inboundUnrouted: undefined;
  /** The relay accepted an outbox mail. */
  mailSent: { row: OutboxRow };
}
