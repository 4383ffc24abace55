import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Dispatcher, request } from 'undici';

import { countPdfPages } from '../documents/countPdfPages.js';
import { coerceError } from '../errors.js';
import { MB } from '../lib/units.js';

/**
 * Fetches a `media_url` the way Telnyx does before dialling (docs/telnyx.md §1.3 and §7): a plain GET that
 * must answer 2xx directly (a 3xx is not followed and fails, like any non-2xx or network error, with
 * `file_download_failed`), a body that must be a PDF (`%PDF-`, parseable, else `file_format_invalid`), at most
 * 50 MB (`file_size_limit_exceeded`) and 350 pages (`page_count_limit_exceeded`).
 */
export const TELNYX_MAX_MEDIA_BYTES = 50 * MB;
export const TELNYX_MAX_PAGES = 350;

export interface MediaFetchOptions {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  timeoutMs: number;
  maxBytes: number;
  maxPages: number;
}

export interface MediaFacts {
  httpStatus: number | null;
  /** sha256 (hex) and length of the bytes read; null when no body was read in full. */
  sha256: string | null;
  bytes: number;
  pages: number | null;
}

export type MediaFetchResult =
  | ({ ok: true; pages: number } & Omit<MediaFacts, 'pages'>)
  | ({ ok: false; failureReason: string; detail: string } & MediaFacts);

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

export async function fetchMedia(url: string, options: MediaFetchOptions): Promise<MediaFetchResult> {
  const failed = (
    failureReason: string,
    detail: string,
    facts: Partial<MediaFacts> = {},
  ): MediaFetchResult => ({
    ok: false,
    failureReason,
    detail,
    httpStatus: null,
    sha256: null,
    bytes: 0,
    pages: null,
    ...facts,
  });

  let httpStatus: number;
  let body: Buffer;
  try {
    const response = await request(url, {
      method: 'GET',
      dispatcher: options.dispatcher,
      headers: { 'user-agent': 'faxbridge-telnyx-simulator' },
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    httpStatus = response.statusCode;
    if (httpStatus < 200 || httpStatus > 299) {
      await response.body.dump();
      return failed('file_download_failed', `media_url answered ${httpStatus}`, { httpStatus });
    }
    // Read into one buffer sized by Content-Length when it is given: chunks plus their concatenation would
    // hold a 50 MB document twice, and sandbox mode runs this inside the daemon's process (bench/memory50mb).
    const declared = Number(response.headers['content-length']);
    let whole =
      Number.isSafeInteger(declared) && declared > 0 && declared <= options.maxBytes
        ? Buffer.allocUnsafe(declared)
        : null;
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response.body) {
      const piece = chunk as Buffer;
      const offset = total;
      total += piece.length;
      if (total > options.maxBytes) {
        response.body.destroy();
        return failed('file_size_limit_exceeded', `media is over ${options.maxBytes} bytes`, {
          httpStatus,
          bytes: total,
        });
      }
      if (whole && total <= whole.length) {
        piece.copy(whole, offset);
        continue;
      }
      // More bytes than declared: fall back to collecting chunks.
      if (whole) chunks.push(whole.subarray(0, offset));
      whole = null;
      chunks.push(piece);
    }
    body = whole ? whole.subarray(0, total) : Buffer.concat(chunks);
  } catch (thrown) {
    return failed('file_download_failed', coerceError(thrown).message);
  }

  const facts = { httpStatus, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
  if (!body.subarray(0, PDF_MAGIC.length).equals(PDF_MAGIC)) {
    return failed('file_format_invalid', 'media does not start with %PDF-', facts);
  }
  const pages = await countPdfPagesOf(body);
  if (pages === null) return failed('file_format_invalid', 'media is not a readable PDF', facts);
  if (pages > options.maxPages) {
    return failed('page_count_limit_exceeded', `media has ${pages} pages`, { ...facts, pages });
  }
  return { ok: true, pages, ...facts };
}

/**
 * Counted in the document sandbox: in sandbox mode the simulator runs inside the daemon's process, and a fetched
 * document is as untrusted as a mailed one. What cannot be counted safely is `file_format_invalid` here.
 */
async function countPdfPagesOf(bytes: Uint8Array): Promise<number | null> {
  const file = join(tmpdir(), `faxbridge-simulator-${randomBytes(6).toString('hex')}.pdf`);
  try {
    await writeFile(file, bytes);
    return await countPdfPages(file);
  } finally {
    await rm(file, { force: true });
  }
}
