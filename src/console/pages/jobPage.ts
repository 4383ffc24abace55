import { describeFailure } from '../../domain/failureReasons.js';
import type { JobHistory } from '../../jobs/jobHistory.js';
import type { DocumentRow } from '../../store/jobStore.js';
import { formatTime, type Html, html } from '../html.js';
import { csrfField, layout, type PageFrame, statusBadge } from './layout.js';
import { listTable } from './listTable.js';

/** Previews shown at once; a longer document is downloaded to be read in full. */
export const MAX_PREVIEW_PAGES = 20;

export function jobPage(
  frame: PageFrame,
  history: JobHistory,
  options: { transmitted: DocumentRow | null; notice?: string; problem?: string },
): string {
  const { job, message, document, attempts, events, outbox, related } = history;
  const zone = frame.config.timezone;
  const t = (ms: number | null) => formatTime(ms, zone);
  const documentLive = document !== null && document.deleted_at === null;
  const canRetry = (job.status === 'failed' || job.status === 'canceled') && documentLive;
  const canCancel = job.status === 'queued' || job.status === 'placed';
  const failure = job.failure_reason ? describeFailure(job.failure_reason) : null;

  const { transmitted } = options;
  const actions: Html[] = [];
  if (transmitted)
    actions.push(
      html`<a class="button" href="/console/jobs/${job.id}/transmitted">Download the PDF as faxed</a>`,
    );
  if (documentLive)
    actions.push(
      html`<a class="button ${transmitted ? 'secondary' : ''}" href="/console/jobs/${job.id}/document"
        >Download the document${transmitted ? ' as handed in' : ''}</a
      >`,
    );
  if (canRetry)
    actions.push(
      html`<form method="post" action="/console/jobs/${job.id}/retry">
        ${csrfField(frame)}<button type="submit">Retry as a new job</button>
      </form>`,
    );
  if (canCancel)
    actions.push(
      html`<form method="post" action="/console/jobs/${job.id}/cancel">
        ${csrfField(frame)}<button type="submit" class="danger">Cancel this fax</button>
      </form>`,
    );

  // The pages as faxed (cover page and header lines included) once built, else the document handed in.
  const shown = transmitted ?? (documentLive ? document : null);
  const pages = shown ? Math.min(shown.pages, MAX_PREVIEW_PAGES) : 0;
  const previews = Array.from({ length: pages }, (_, index) => index + 1).map(
    (page) =>
      html`<figure>
        <img src="/console/jobs/${job.id}/pages/${page}.png" alt="Page ${page}" loading="lazy" width="260" />
        <figcaption>Page ${page}</figcaption>
      </figure>`,
  );

  return layout(
    frame,
    `Fax to ${job.to_number}`,
    'jobs',
    html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
      ${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}
      <div class="card">
        <dl>
          <dt>Job</dt>
          <dd>${job.id}</dd>
          <dt>Status</dt>
          <dd>${statusBadge(job.status)}${failure ? html` — ${failure.short}` : ''}</dd>
          <dt>To</dt>
          <dd>${job.to_number}</dd>
          <dt>From number</dt>
          <dd>${job.from_number}</dd>
          <dt>Sender</dt>
          <dd>${job.sender}</dd>
          <dt>Subject</dt>
          <dd>${message?.subject ?? '—'}</dd>
          <dt>Document</dt>
          <dd>
            ${document ? html`${document.filename} · ${document.pages} page(s) · ${Math.ceil(document.size / 1024)} KB${document.deleted_at ? ' · deleted by retention' : ''}` : '—'}
          </dd>
          <dt>Attempts</dt>
          <dd>${job.attempt} of ${job.max_attempts}</dd>
          <dt>Queued</dt>
          <dd>${t(job.created_at)}</dd>
          <dt>Finished</dt>
          <dd>${t(job.finished_at)}</dd>
          ${
            job.failure_detail
              ? html`<dt>Detail</dt>
                  <dd>${job.failure_detail}</dd>`
              : ''
          }
        </dl>
      </div>
      <div class="actions">${actions}</div>
      <h2>Attempts</h2>
      ${listTable(
        ['#', 'State', 'Telnyx fax', 'Telnyx status', 'Started', 'Ended', 'Pages', 'Reason'],
        attempts.map(
          (a) =>
            html`<tr>
              <td data-label="#">${a.attempt}</td>
              <td data-label="State">${statusBadge(a.state)}</td>
              <td data-label="Telnyx fax">${a.fax_id ?? '—'}</td>
              <td data-label="Telnyx status">${a.fax_status ?? '—'}</td>
              <td data-label="Started">${t(a.started_at)}</td>
              <td data-label="Ended">${t(a.ended_at)}</td>
              <td data-label="Pages">${a.pages ?? ''}</td>
              <td class="wrap" data-label="Reason">${a.failure_reason ?? ''}</td>
            </tr>`,
        ),
        'Not placed yet.',
      )}
      <h2>Telnyx events</h2>
      ${listTable(
        ['Event', 'Fax', 'Occurred', 'Received', 'Outcome', 'Reason'],
        events.map(
          (e) =>
            html`<tr>
              <td data-label="Event">${e.event_type}</td>
              <td data-label="Fax">${e.fax_id ?? ''}</td>
              <td data-label="Occurred">${e.occurred_at ?? ''}</td>
              <td data-label="Received">${t(e.received_at)}</td>
              <td data-label="Outcome">${e.outcome ?? 'pending'}</td>
              <td data-label="Reason">${e.failure_reason ?? ''}</td>
            </tr>`,
        ),
        'None yet.',
      )}
      <h2>Receipts</h2>
      ${listTable(
        ['Kind', 'Status', 'Queued', 'Sent', 'Last error'],
        outbox.map(
          (o) =>
            html`<tr>
              <td data-label="Kind">${o.kind}</td>
              <td data-label="Status">${o.status}</td>
              <td data-label="Queued">${t(o.created_at)}</td>
              <td data-label="Sent">${t(o.sent_at)}</td>
              <td class="wrap" data-label="Last error">${o.last_error ?? ''}</td>
            </tr>`,
        ),
        'None.',
      )}
      ${
        related.length
          ? html`<h2>Same message</h2>
              <ul>
                ${related.map((other) => html`<li><a href="/console/jobs/${other.id}">${other.id}</a> ${other.to_number} ${statusBadge(other.status)}</li>`)}
              </ul>`
          : ''
      }
      <h2>Pages</h2>
      ${
        previews.length
          ? html`<p class="muted">
                ${transmitted ? 'As faxed, with the cover page and header lines.' : 'As handed in; the PDF that is faxed is built before the first attempt.'}
              </p>
              <div class="pages">${previews}</div>
              ${shown && shown.pages > pages ? html`<p class="muted">Showing ${pages} of ${shown.pages} pages; download the PDF for the rest.</p>` : ''}`
          : html`<p class="muted">
              ${document?.deleted_at ? 'The document was deleted by retention.' : 'No document.'}
            </p>`
      }`,
  );
}
