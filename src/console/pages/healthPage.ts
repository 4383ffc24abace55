import type { Readiness } from '../../http/health.js';
import type { ActivityCounts } from '../../store/jobStore.js';
import { html } from '../html.js';
import { layout, type PageFrame } from './layout.js';

export interface HealthFacts {
  queued: number;
  placed: number;
  outboxPending: number;
  outboxDead: number;
  today: ActivityCounts;
  readiness: Readiness;
  telnyx: string;
}

export function healthPage(frame: PageFrame, facts: HealthFacts): string {
  const check = (name: string, label: string) => {
    const value = facts.readiness.checks[name] ?? 'not checked';
    return html`<dt>${label}</dt>
      <dd>
        ${value === 'ok' ? html`<span class="status status-delivered">ok</span>` : html`<span class="status status-failed">${value}</span>`}
      </dd>`;
  };
  return layout(
    frame,
    'Health',
    'health',
    html`<div class="card">
        <h2>Queue</h2>
        <dl>
          <dt>Waiting to be sent</dt>
          <dd>${facts.queued}</dd>
          <dt>At Telnyx now</dt>
          <dd>${facts.placed}</dd>
          <dt>Mails waiting</dt>
          <dd>${facts.outboxPending}</dd>
          <dt>Mails given up</dt>
          <dd>${facts.outboxDead}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Today</h2>
        <dl>
          <dt>Sent (delivered)</dt>
          <dd>${facts.today.delivered}</dd>
          <dt>Failed</dt>
          <dd>${facts.today.failed}</dd>
          <dt>Received</dt>
          <dd>${facts.today.received}</dd>
        </dl>
      </div>
      <div class="card">
        <h2>Services</h2>
        <dl>
          <dt>Telnyx</dt>
          <dd>${facts.telnyx}</dd>
          ${check('mail', 'Mail relay')} ${check('database', 'Database')}
          ${check('storage', 'Document storage')}
        </dl>
      </div>`,
  );
}
