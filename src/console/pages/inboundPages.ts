import type { DocumentRow, InboundFaxRow } from '../../store/jobStore.js';
import { formatTime, html, query } from '../html.js';
import { MAX_PREVIEW_PAGES } from './jobPage.js';
import { csrfField, layout, type PageFrame, statusBadge } from './layout.js';
import { listTable } from './listTable.js';

export interface InboundFilter {
  caller: string;
  number: string;
  date: string;
}

export function inboundListPage(
  frame: PageFrame,
  options: { filter: InboundFilter; faxes: InboundFaxRow[]; next: string | null },
): string {
  const { filter, faxes } = options;
  const zone = frame.config.timezone;
  const rows = faxes.map(
    (fax) =>
      html`<tr>
        <td data-label="Received">
          <a href="/console/inbound/${fax.fax_id}">${formatTime(fax.received_at, zone)}</a>
        </td>
        <td data-label="Caller">${fax.from_number ?? 'unknown'}</td>
        <td data-label="To">${fax.to_number}</td>
        <td data-label="Pages">${fax.pages ?? ''}${fax.partial ? ' (partial)' : ''}</td>
        <td data-label="Status">${statusBadge(fax.status)}</td>
        <td data-label="PDF">
          ${fax.document_id ? html`<a href="/console/inbound/${fax.fax_id}/document">Download</a>` : ''}
        </td>
      </tr>`,
  );
  return layout(
    frame,
    'Received faxes',
    'inbound',
    html`<form class="search" method="get" action="/console/inbound">
        <label
          >Caller <input name="caller" inputmode="tel" placeholder="+1212…" value="${filter.caller}"
        /></label>
        <label>Our number <input name="number" inputmode="tel" value="${filter.number}" /></label>
        <label>Date <input type="date" name="date" value="${filter.date}" /></label>
        <button type="submit">Search</button>
      </form>
      ${listTable(['Received', 'Caller', 'To', 'Pages', 'Status', 'PDF'], rows, 'No faxes match.')}
      ${options.next ? html`<p class="pager"><a href="/console/inbound${query({ ...filter, before: options.next })}">Older faxes →</a></p>` : ''}`,
  );
}

export interface InboundFaxOptions {
  /** Who the fax's mail goes to under the current routes; null when nobody. */
  routedTo: string[] | null;
  /** Carried by the re-send form, so sending that form twice queues one mail (inbound/resendInboundFax.ts). */
  resendId: string;
  notice?: string;
  problem?: string;
}

export function inboundFaxPage(
  frame: PageFrame,
  fax: InboundFaxRow,
  document: DocumentRow | null,
  options: InboundFaxOptions,
): string {
  const zone = frame.config.timezone;
  const live = document !== null && document.deleted_at === null;
  const pages = live ? Math.min(document.pages, MAX_PREVIEW_PAGES) : 0;
  const actions = live
    ? html`<div class="actions">
        <a class="button" href="/console/inbound/${fax.fax_id}/document">Download the PDF</a>
        ${
          options.routedTo
            ? html`<form method="post" action="/console/inbound/${fax.fax_id}/resend">
                ${csrfField(frame)}<input type="hidden" name="resend" value="${options.resendId}" />
                <button type="submit" class="secondary">Send again by email</button>
              </form>`
            : ''
        }
      </div>`
    : '';
  return layout(
    frame,
    `Fax from ${fax.from_number ?? 'unknown caller'}`,
    'inbound',
    html`${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
      ${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}
      <div class="card">
        <dl>
          <dt>Telnyx fax</dt>
          <dd>${fax.fax_id}</dd>
          <dt>Status</dt>
          <dd>${statusBadge(fax.status)}${fax.failure_reason ? html` — ${fax.failure_reason}` : ''}</dd>
          <dt>Caller</dt>
          <dd>${fax.from_number ?? 'unknown'}</dd>
          <dt>To</dt>
          <dd>${fax.to_number}</dd>
          <dt>Received</dt>
          <dd>${formatTime(fax.received_at, zone)}</dd>
          <dt>Pages</dt>
          <dd>${fax.pages ?? '—'}${fax.partial ? ' (the call ended before every page arrived)' : ''}</dd>
          <dt>Routed to</dt>
          <dd>${options.routedTo ? options.routedTo.join(', ') : 'nobody (no route for this number)'}</dd>
          ${
            document
              ? html`<dt>Document</dt>
                  <dd>
                    ${document.filename} · ${Math.ceil(document.size / 1024)}
                    KB${document.deleted_at ? ' · deleted by retention' : ''}
                  </dd>`
              : ''
          }
        </dl>
      </div>
      ${actions}
      <h2>Pages</h2>
      ${
        pages
          ? html`<div class="pages">
              ${Array.from({ length: pages }, (_, i) => i + 1).map(
                (page) =>
                  html`<figure>
                    <img
                      src="/console/inbound/${fax.fax_id}/pages/${page}.png"
                      alt="Page ${page}"
                      loading="lazy"
                      width="260"
                    />
                    <figcaption>Page ${page}</figcaption>
                  </figure>`,
              )}
            </div>`
          : html`<p class="muted">
              ${document?.deleted_at ? 'The document was deleted by retention.' : 'The PDF is not stored (yet).'}
            </p>`
      }`,
  );
}
