/**
 * Streams a received fax's `media_url` (a presigned S3 link valid about 10 minutes, docs/telnyx.md §5.2)
 * into a file, hashing as it goes, with a size cap and timeouts, and checks that the bytes are a PDF. Nothing
 * is thrown: the caller decides what a failure means (refresh the link, or retry later).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { Dispatcher } from 'undici';

import { hasPdfMagic, PDF_SNIFF_BYTES } from '../documents/pdfMagic.js';
import { keepHeapTightWhile } from '../lib/leanHeap.js';
import { PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import { request } from '../lib/undiciCore.js';
import { MB, MINUTE, SECOND } from '../lib/units.js';

export type DownloadOutcome =
  | { kind: 'ok'; size: number; sha256: string }
  /**
   * The link was refused (expired, or never valid), points where media may not come from, or served
   * something other than a PDF: a refreshed link may work.
   */
  | { kind: 'refused'; reason: string }
  /** Network trouble, a server error, or a body over the cap: try again later. */
  | { kind: 'failed'; reason: string };

export interface DownloadOptions {
  dispatcher: Dispatcher;
  /** Telnyx faxes are far smaller; anything bigger is not a fax and is not written to disk. */
  maxBytes?: number;
  /** Deadline for the whole download, first byte to last. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_INBOUND_BYTES = 60 * MB;
const DEFAULT_TIMEOUT_MS = 5 * MINUTE;
const HEADERS_TIMEOUT_MS = 30 * SECOND;
/** Longest silence between two body chunks. */
const BODY_TIMEOUT_MS = 60 * SECOND;
/** S3 answers 403 for an expired or bad signature (and for a missing key without list rights). */
const REFUSED_STATUSES = new Set([400, 401, 403, 404, 410]);

class TooLargeError extends Error {}
class NotPdfError extends Error {}

export async function downloadMedia(
  url: string,
  target: string,
  options: DownloadOptions,
): Promise<DownloadOutcome> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_INBOUND_BYTES;
  const deadline = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      dispatcher: options.dispatcher,
      signal,
      headersTimeout: HEADERS_TIMEOUT_MS,
      bodyTimeout: BODY_TIMEOUT_MS,
    });
  } catch (error) {
    if (isAddressRefusal(error)) return { kind: 'refused', reason: (error as Error).message };
    return { kind: 'failed', reason: `media download failed: ${describe(error)}` };
  }
  const { statusCode, headers, body } = response;
  if (statusCode < 200 || statusCode >= 300) {
    await body.dump().catch(() => undefined);
    if (REFUSED_STATUSES.has(statusCode)) return { kind: 'refused', reason: `refused with ${statusCode}` };
    return { kind: 'failed', reason: `media server answered ${statusCode}` };
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await body.dump().catch(() => undefined);
    return { kind: 'failed', reason: `media is ${declared} bytes, over the ${maxBytes}-byte limit` };
  }

  // Most received faxes are small; a large one (or one of unknown size) streams through with the heap kept tight.
  keepHeapTightWhile(body, declared);
  const hash = createHash('sha256');
  let size = 0;
  // Whatever the server calls it, only a PDF is mailed as one (a page of HTML or metrics text is not a fax).
  let head: Buffer | null = Buffer.alloc(0);
  const notPdf = () => new NotPdfError('media is not a PDF (no %PDF- in its first 1024 bytes)');
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(new TooLargeError(`media is over the ${maxBytes}-byte limit`));
      if (head) {
        head = Buffer.concat([head, chunk.subarray(0, PDF_SNIFF_BYTES - head.length)]);
        if (head.length >= PDF_SNIFF_BYTES) {
          if (!hasPdfMagic(head)) return callback(notPdf());
          head = null;
        }
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      callback(head && !hasPdfMagic(head) ? notPdf() : null);
    },
  });
  try {
    // `flush` makes the bytes durable before documents.put moves the file into storage.
    await pipeline(body, meter, createWriteStream(target, { flush: true, mode: PRIVATE_FILE_MODE }));
  } catch (error) {
    await rm(target, { force: true });
    if (error instanceof NotPdfError) return { kind: 'refused', reason: error.message };
    return { kind: 'failed', reason: `media download failed: ${describe(error)}` };
  }
  return { kind: 'ok', size, sha256: hash.digest('hex') };
}

/** The media connector refused the address (see mediaConnector.ts). */
function isAddressRefusal(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EMEDIAREFUSED';
}

/** Messages only: never the URL, whose query string is a credential. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}
