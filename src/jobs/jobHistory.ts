import type { JobStore } from '../store/jobStore.js';

/** Everything recorded about one job (for `faxbridge job` and the console's job page), or null when there is none. */
export async function loadJobHistory(store: JobStore, id: string) {
  const job = await store.getJob(id);
  if (!job) return null;
  const message = await store.getMessage(job.message_row_id);
  const document = message ? await store.getDocument(message.document_id) : null;
  const attempts = await store.listAttempts(job.id);
  const faxIds = attempts.flatMap((attempt) => (attempt.fax_id ? [attempt.fax_id] : []));
  const events = (await store.listEventsOfFaxes(faxIds)).map(({ payload_json, ...event }) => ({
    ...event,
    failure_reason: failureReasonOf(payload_json),
  }));
  const outbox = await store.listOutboxOfJob(job.id);
  const related = message
    ? (await store.listJobsOfMessage(message.id)).filter((other) => other.id !== job.id)
    : [];
  return { job, message, document, attempts, events, outbox, related };
}

export type JobHistory = NonNullable<Awaited<ReturnType<typeof loadJobHistory>>>;

/** Telnyx puts the reason of a failed fax in data.payload.failure_reason. */
function failureReasonOf(payloadJson: string): string | null {
  try {
    const parsed = JSON.parse(payloadJson) as { data?: { payload?: { failure_reason?: unknown } } };
    const reason = parsed.data?.payload?.failure_reason;
    return typeof reason === 'string' ? reason : null;
  } catch {
    return null;
  }
}
