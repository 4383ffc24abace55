import type Koa from 'koa';

import { FaxError } from '../errors.js';
import type { DocumentRow } from '../store/jobStore.js';
import type { ConsoleKit } from './consoleKit.js';
import { PreviewError } from './pagePreview.js';

/*
 * The two ways a document leaves the console, both written to the audit log before any byte is sent:
 * the whole PDF as a download, and one page drawn as a PNG preview.
 */

export async function sendDocument(
  ctx: Koa.Context,
  kit: ConsoleKit,
  document: DocumentRow | null,
  objectType: 'job' | 'inbound',
  objectId: string,
): Promise<void> {
  if (!document || document.deleted_at !== null) return kit.notFound(ctx);
  let opened;
  try {
    opened = await kit.deps.documents.openRead(document.storage_key);
  } catch (error) {
    if (error instanceof FaxError && error.code === 'not_found') return kit.notFound(ctx);
    throw error;
  }
  try {
    await kit.audit(ctx, 'download', objectType, objectId, document.filename);
  } catch (error) {
    opened.stream.destroy();
    throw error;
  }
  ctx.type = 'application/pdf';
  ctx.length = opened.size;
  ctx.set('Content-Disposition', contentDisposition(document.filename));
  ctx.body = opened.stream;
}

export async function sendPreview(
  ctx: Koa.Context,
  kit: ConsoleKit,
  document: DocumentRow | null,
  objectType: 'job' | 'inbound',
  objectId: string,
): Promise<void> {
  const match = /^(\d{1,4})\.png$/.exec(String(ctx.params.file));
  const page = match ? Number(match[1]) : 0;
  if (!document || document.deleted_at !== null || page < 1 || page > document.pages)
    return kit.notFound(ctx);
  let png: Buffer;
  try {
    png = await kit.renderPage(document.storage_key, page);
  } catch (error) {
    if (error instanceof FaxError && error.code === 'not_found') return kit.notFound(ctx);
    if (!(error instanceof PreviewError)) throw error;
    ctx.status = 422;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = error.message;
    return;
  }
  await kit.audit(ctx, 'preview', objectType, objectId, `page ${page}`);
  ctx.type = 'image/png';
  ctx.body = png;
}

/** `attachment; filename="..."` with an ASCII fallback and the UTF-8 name for browsers that read it. */
function contentDisposition(filename: string): string {
  const name = filename.toLowerCase().endsWith('.pdf') ? filename : `${filename}.pdf`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
