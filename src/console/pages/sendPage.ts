import { html } from '../html.js';
import { csrfField, layout, type PageFrame } from './layout.js';

/** What the file picker offers; anything else chosen is still recognised by its bytes, or refused in words. */
const ACCEPTED = [
  'application/pdf',
  'image/*',
  '.pdf',
  '.tif',
  '.tiff',
  '.heic',
  '.txt',
  '.doc',
  '.docx',
  '.odt',
  '.rtf',
  '.xls',
  '.xlsx',
  '.ods',
  '.ppt',
  '.pptx',
  '.odp',
  '.dat',
].join(',');

export interface SendForm {
  numbers: string;
  cover: boolean;
}

/** `fromNumber` null: the viewer has no `senders` entry and cannot send. */
export function sendPage(
  frame: PageFrame,
  options: { fromNumber: string | null; form?: SendForm; problem?: string },
): string {
  const form = options.form ?? { numbers: '', cover: true };
  const body = options.fromNumber
    ? html`<form class="stack card" method="post" action="/console/send" enctype="multipart/form-data">
        ${csrfField(frame)}
        <label
          >Documents
          <input type="file" name="document" multiple required accept="${ACCEPTED}" />
          <span class="muted"
            >PDFs, photos and scans (JPEG, PNG, HEIC, TIFF), text and Office files; several become one fax, in
            the order chosen.</span
          ></label
        >
        <label
          >Fax numbers (one per line or separated by commas)
          <textarea name="numbers" required inputmode="tel" placeholder="+15550001111">
${form.numbers}</textarea>
        </label>
        <label class="inline"
          ><input type="checkbox" name="cover" value="on" ${form.cover ? html`checked` : ''} /> Cover
          page</label
        >
        <p class="muted">
          Sent from ${options.fromNumber} as ${frame.viewer?.email ?? ''}; the receipts go to that address.
        </p>
        <button type="submit">Send</button>
      </form>`
    : html`<p class="error" role="alert">
        Your address (${frame.viewer?.email ?? ''}) has no <code>senders</code> entry, so it cannot send
        faxes. Ask the administrator to add one.
      </p>`;
  return layout(
    frame,
    'Send a fax',
    'send',
    html`${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}${body}`,
  );
}
