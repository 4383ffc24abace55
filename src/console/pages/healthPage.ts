import type { Readiness } from '../../http/health.js';
import type { ActivityCounts } from '../../store/jobStore.js';
import type { ApiCallNote } from '../consoleDeps.js';
import { formatTime, type Html, html } from '../html.js';
import { layout, type PageFrame } from './layout.js';

export interface HealthFacts {
  queued: number;
  placed: number;
  outboxPending: number;
  outboxDead: number;
  today: ActivityCounts;
  readiness: Readiness;
  telnyx: {
    /** `the built-in simulator (sandbox mode)` or `the API at https://…`. */
    target: string;
    last: ApiCallNote | null;
    lastOk: ApiCallNote | null;
    startedAt: number;
  };
}

const ok = (label: string) => html`<span class="status status-delivered">${label}</span>`;
const bad = (label: string) => html`<span class="status status-failed">${label}</span>`;
const idle = (label: string) => html`<span class="status">${label}</span>`;

/** Telnyx's state from the daemon's own last call: no probe of ours, the answer every fax depends on. */
function telnyxState(frame: PageFrame, telnyx: HealthFacts['telnyx']): Html {
  const t = (ms: number) => formatTime(ms, frame.config.timezone);
  const { last, lastOk } = telnyx;
  if (!last) {
    return html`${idle('not called yet')} No call to ${telnyx.target} since the daemon started at
    ${t(telnyx.startedAt)}.`;
  }
  if (last.outcome === 'ok') {
    return html`${ok('ok')} ${telnyx.target}: the last call (${last.call}) was answered at ${t(last.at)}.`;
  }
  const since = lastOk
    ? `The last call that worked was at ${t(lastOk.at)}.`
    : 'No call has worked since start.';
  // A refused request (a bad number, an unknown fax) is Telnyx answering; a refused key is not.
  if (last.outcome === 'rejected' && last.status !== 401 && last.status !== 403) {
    return html`${ok('answering')} ${telnyx.target}: the last call (${last.call}, ${t(last.at)}) was refused
    with ${last.status}: ${last.detail ?? ''}`;
  }
  const what =
    last.outcome === 'rejected' ? `refused our API key (${last.status})` : `failed: ${last.detail ?? ''}`;
  return html`${bad('failing')} ${telnyx.target}: the last call (${last.call}, ${t(last.at)}) ${what}.
  ${since}`;
}

export function healthPage(frame: PageFrame, facts: HealthFacts): string {
  const check = (name: string, label: string) => {
    const value = facts.readiness.checks[name] ?? 'not checked';
    return html`<dt>${label}</dt>
      <dd>${value === 'ok' ? ok('ok') : html`${bad('failing')} ${value}`}</dd>`;
  };
  return layout(
    frame,
    'Health',
    'health',
    html`<div class="card">
        <h2>Queue</h2>
        <dl>
          <dt>Waiting to be sent</dt>
          <dd data-count="queued">${facts.queued}</dd>
          <dt>At Telnyx now</dt>
          <dd data-count="placed">${facts.placed}</dd>
          <dt>Mails waiting</dt>
          <dd data-count="mail-pending">${facts.outboxPending}</dd>
          <dt>Mails given up</dt>
          <dd data-count="mail-dead">${facts.outboxDead}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Today</h2>
        <dl>
          <dt>Sent (delivered)</dt>
          <dd data-count="delivered">${facts.today.delivered}</dd>
          <dt>Failed</dt>
          <dd data-count="failed">${facts.today.failed}</dd>
          <dt>Received</dt>
          <dd data-count="received">${facts.today.received}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Services</h2>
        <dl>
          <dt>Telnyx</dt>
          <dd data-service="telnyx">${telnyxState(frame, facts.telnyx)}</dd>
          ${check('mail', 'Mail relay')} ${check('database', 'Database')}
          ${check('storage', 'Document storage')}
        </dl>
        <p class="muted">Relay, database and storage are checked at most every 30 seconds.</p>
      </div>`,
  );
}
