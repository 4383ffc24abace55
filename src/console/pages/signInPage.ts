import { html } from '../html.js';
import { csrfField, layout, type PageFrame } from './layout.js';

export function signInPage(
  frame: PageFrame,
  options: { email?: string; problem?: string; next?: string },
): string {
  return layout(
    frame,
    'Sign in',
    'none',
    html`<div class="signin card">
      ${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}
      <form method="post" action="/console/sign-in">
        ${csrfField(frame)}
        <input type="hidden" name="next" value="${options.next ?? ''}" />
        <label
          >Email
          <input type="email" name="email" autocomplete="username" required value="${options.email ?? ''}"
        /></label>
        <label
          >Password <input type="password" name="password" autocomplete="current-password" required
        /></label>
        <button type="submit">Sign in</button>
      </form>
    </div>`,
  );
}

export function messagePage(frame: PageFrame, title: string, text: string): string {
  return layout(
    frame,
    title,
    'none',
    html`<p class="error" role="alert">${text}</p>
      <p><a href="/console/">Back to the console</a></p>`,
  );
}
