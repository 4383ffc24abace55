import { type Html, html } from '../html.js';

/**
 * The skeleton every console list shares: a scrolling box, a table with one heading per column, its rows, or one
 * muted row saying there are none, across every column. `className: 'list'` makes the rows cards on a phone (each
 * cell then shows its `data-label`).
 */
export function listTable(
  headings: readonly string[],
  rows: readonly Html[],
  empty: string,
  className: 'list' | null = 'list',
): Html {
  return html`<div class="scroll">
    <table${className ? html` class="${className}"` : ''}>
      <thead>
        <tr>
          ${headings.map((heading) => html`<th>${heading}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${
          rows.length
            ? rows
            : html`<tr>
                <td colspan="${headings.length}" class="muted">${empty}</td>
              </tr>`
        }
      </tbody>
    </table>
  </div>`;
}
