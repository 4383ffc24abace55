import type { Config } from '../../config/loadConfig.js';
import type { Viewer } from '../consoleDeps.js';
import { CSRF_FIELD } from '../guard.js';
import { type Html, html } from '../html.js';

export type Section = 'jobs' | 'inbound' | 'send' | 'health' | 'audit' | 'none';

export interface PageFrame {
  config: Config;
  viewer: Viewer | null;
  csrf: string;
  /** Path of the style sheet, with its content hash so a new version is never served from cache. */
  cssPath: string;
}

/** The hidden field every POST form carries. */
export function csrfField(frame: PageFrame): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${frame.csrf}" />`;
}

export function layout(frame: PageFrame, title: string, section: Section, body: Html): string {
  const { viewer, config } = frame;
  const link = (target: Section, href: string, label: string) =>
    html`<a href="${href}" class="${section === target ? 'active' : ''}">${label}</a>`;
  const nav = viewer
    ? html`<nav>
          ${link('jobs', '/console/jobs', 'Sent faxes')}
          ${link('inbound', '/console/inbound', 'Received faxes')}
          ${link('send', '/console/send', 'Send a fax')} ${link('health', '/console/health', 'Health')}
          ${viewer.role === 'admin' ? link('audit', '/console/audit', 'Audit log') : ''}
        </nav>
        <div class="who">
          <span
            >${viewer.via === 'sandbox' ? 'sandbox (no sign-in)' : viewer.email}${viewer.role === 'admin' ? ' · admin' : ''}</span
          >
          ${
            viewer.via === 'password'
              ? html`<form method="post" action="/console/sign-out">
                  ${csrfField(frame)}<button type="submit">Sign out</button>
                </form>`
              : ''
          }
        </div>`
    : '';
  const banner = config.sandbox
    ? html`<div class="banner" role="status">
        <strong>Sandbox mode:</strong> faxes go to the built-in Telnyx simulator, nothing is
        dialled${viewer?.via === 'sandbox' ? html`; the console needs no sign-in` : ''}.
      </div>`
    : '';
  return `<!doctype html>${html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${title} · faxbridge</title>
      <link rel="stylesheet" href="${frame.cssPath}" />
    </head>
    <body>
      <header><a class="brand" href="/console/">faxbridge</a>${nav}</header>
      ${banner}
      <main>
        <h1>${title}</h1>
        ${body}
      </main>
    </body>
  </html>`}`;
}

export function statusBadge(status: string): Html {
  return html`<span class="status status-${status}">${status}</span>`;
}
