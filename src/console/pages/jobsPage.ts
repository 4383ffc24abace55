import type { JobRow } from '../../store/jobStore.js';
import { formatTime, html, query } from '../html.js';
import { layout, type PageFrame, statusBadge } from './layout.js';
import { listTable } from './listTable.js';

const JOB_STATUSES = ['queued', 'placed', 'delivered', 'failed', 'canceled'] as const;

export interface JobsFilter {
  number: string;
  sender: string;
  status: string;
  date: string;
}

export function jobsPage(
  frame: PageFrame,
  options: { filter: JobsFilter; jobs: JobRow[]; next: string | null; notice?: string; problem?: string },
): string {
  const { filter, jobs } = options;
  const zone = frame.config.timezone;
  const isAdmin = frame.viewer?.role === 'admin';
  const rows = jobs.map(
    (job) =>
      html`<tr>
        <td data-label="Job"><a href="/console/jobs/${job.id}">${job.id}</a></td>
        <td data-label="To">${job.to_number}</td>
        ${isAdmin ? html`<td data-label="Sender">${job.sender}</td>` : ''}
        <td data-label="Status">${statusBadge(job.status)}</td>
        <td data-label="Queued">${formatTime(job.created_at, zone)}</td>
        <td data-label="Pages">${job.pages_sent ?? ''}</td>
        <td class="wrap" data-label="Reason">${job.failure_reason ?? ''}</td>
      </tr>`,
  );
  return layout(
    frame,
    'Sent faxes',
    'jobs',
    html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
      ${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}
      <form class="search" method="get" action="/console/jobs">
        <label
          >Number <input name="number" inputmode="tel" placeholder="+1555…" value="${filter.number}"
        /></label>
        ${isAdmin ? html`<label>Sender <input name="sender" type="email" value="${filter.sender}" /></label>` : ''}
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${JOB_STATUSES.map((status) => html`<option value="${status}" ${filter.status === status ? html`selected` : ''}>${status}</option>`)}
          </select></label
        >
        <label>Date <input type="date" name="date" value="${filter.date}" /></label>
        <button type="submit">Search</button>
      </form>
      ${listTable(['Job', 'To', ...(isAdmin ? ['Sender'] : []), 'Status', 'Queued', 'Pages', 'Reason'], rows, 'No faxes match.')}
      ${options.next ? html`<p class="pager"><a href="/console/jobs${query({ ...filter, before: options.next })}">Older faxes →</a></p>` : ''}`,
  );
}
