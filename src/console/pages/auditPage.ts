import type { AuditEntry } from '../../store/jobStore.js';
import { formatTime, html, query } from '../html.js';
import { layout, type PageFrame } from './layout.js';
import { listTable } from './listTable.js';

export function auditPage(frame: PageFrame, entries: AuditEntry[], next: string | null): string {
  const zone = frame.config.timezone;
  const link = (entry: AuditEntry) =>
    entry.object_type === 'job'
      ? html`<a href="/console/jobs/${entry.object_id}">${entry.object_id}</a>`
      : entry.object_type === 'inbound'
        ? html`<a href="/console/inbound/${entry.object_id}">${entry.object_id}</a>`
        : entry.object_id;
  return layout(
    frame,
    'Audit log',
    'audit',
    html`${listTable(
      ['When', 'Who', 'What', 'Object', 'Detail', 'From'],
      entries.map(
        (entry) =>
          html`<tr>
            <td>${formatTime(entry.at, zone)}</td>
            <td>${entry.actor}</td>
            <td>${entry.action}</td>
            <td>${entry.object_type} ${link(entry)}</td>
            <td class="wrap">${entry.detail ?? ''}</td>
            <td>${entry.address}</td>
          </tr>`,
      ),
      'Nothing recorded yet.',
      null,
    )}
    ${next ? html`<p class="pager"><a href="/console/audit${query({ before: next })}">Older entries →</a></p>` : ''}`,
  );
}
