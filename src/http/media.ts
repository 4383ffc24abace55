import type Koa from 'koa';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Clock } from '../lib/clock.js';
import type { UrlSigner } from '../lib/urlSigner.js';
import { setJsonBody } from './koaBodies.js';

/**
 * GET /media/<key>?expires=…&sig=…: the document bytes for Telnyx, straight 200 (Telnyx follows no
 * redirects). Unsigned or altered links get 403, expired ones 410, and nothing else is served.
 */
export function makeMediaHandler(deps: {
  documents: DocumentStorage;
  signer: UrlSigner;
  clock: Clock;
  prefix?: string;
}): Koa.Middleware {
  const prefix = deps.prefix ?? '/media/';
  return async (ctx) => {
    // Every answer here is either a PDF or a JSON refusal; a browser must never guess it is HTML.
    ctx.set('X-Content-Type-Options', 'nosniff');
    const key = ctx.path.slice(prefix.length);
    const query = ctx.query as { expires?: string; sig?: string };
    const verdict = deps.signer.verify(`${prefix}${key}`, query, deps.clock.now());
    if (verdict !== 'ok') {
      ctx.status = verdict === 'expired' ? 410 : 403;
      setJsonBody(ctx, { error: verdict === 'expired' ? 'link expired' : 'invalid link' });
      return;
    }
    let opened;
    try {
      opened = await deps.documents.openRead(key);
    } catch {
      ctx.status = 404;
      setJsonBody(ctx, { error: 'document no longer available' });
      return;
    }
    ctx.status = 200;
    ctx.type = 'application/pdf';
    ctx.length = opened.size;
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Content-Disposition', `inline; filename="${key.split('/').pop()}"`);
    ctx.body = opened.stream;
  };
}
