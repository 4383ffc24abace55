import { createHash } from 'node:crypto';
import path from 'node:path';

import type Koa from 'koa';

import { newId } from '../lib/ids.js';
import { CONSOLE_CSS } from './consoleCss.js';
import type { ConsoleDeps, Viewer } from './consoleDeps.js';
import type { ConsoleForm } from './forms.js';
import { csrfToken, readCheckedForm } from './guard.js';
import { makePagePreviewer } from './pagePreview.js';
import type { PageFrame } from './pages/layout.js';
import { messagePage } from './pages/signInPage.js';
import type { SessionCodec } from './sessionCookie.js';
import { clientAddress } from './viewer.js';

/** What every console route handler uses: the deps, page rendering, the checked form, the audit trail. */
export interface ConsoleKit {
  deps: ConsoleDeps;
  codec: SessionCodec;
  cssPath: string;
  viewer(ctx: Koa.Context): Viewer;
  frame(ctx: Koa.Context): PageFrame;
  render(ctx: Koa.Context, page: string, status?: number): void;
  /** Another user's object and a missing one answer the same. */
  notFound(ctx: Koa.Context): void;
  form(ctx: Koa.Context): Promise<ConsoleForm>;
  audit(
    ctx: Koa.Context,
    action: string,
    objectType: string,
    objectId: string,
    detail?: string,
  ): Promise<void>;
  renderPage(storageKey: string, page: number): Promise<Buffer>;
}

export function makeConsoleKit(deps: ConsoleDeps, codec: SessionCodec): ConsoleKit {
  const cssHash = createHash('sha256').update(CONSOLE_CSS).digest('hex').slice(0, 12);
  const cssPath = `/console/assets/console-${cssHash}.css`;
  const uploadLimit = deps.config.smtp.max_message_size;
  const renderPage = makePagePreviewer(deps.documents, path.join(deps.config.data_dir, 'tmp'));

  const kit: ConsoleKit = {
    deps,
    codec,
    cssPath,
    viewer(ctx) {
      const viewer = ctx.state.consoleViewer as Viewer | undefined;
      if (!viewer) throw new Error('console route without a viewer');
      return viewer;
    },
    frame: (ctx) => ({
      config: deps.config,
      viewer: (ctx.state.consoleViewer as Viewer | undefined) ?? null,
      csrf: csrfToken(ctx, codec),
      cssPath,
    }),
    render(ctx, page, status = 200) {
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = page;
    },
    notFound(ctx) {
      kit.render(
        ctx,
        messagePage(kit.frame(ctx), 'Not found', 'There is nothing here, or it is not yours to see.'),
        404,
      );
    },
    form: (ctx) => readCheckedForm(ctx, codec, uploadLimit),
    async audit(ctx, action, objectType, objectId, detail) {
      await deps.store.recordAudit({
        id: newId('au'),
        at: deps.clock.now(),
        actor: (ctx.state.consoleViewer as Viewer | undefined)?.email ?? 'anonymous',
        action,
        object_type: objectType,
        object_id: objectId.slice(0, 200),
        address: clientAddress(ctx),
        detail: detail?.slice(0, 500) ?? null,
      });
    },
    renderPage,
  };
  return kit;
}

/** Rows a list page shows, one more is asked of the store to know whether an older page exists. */
export const LIST_PAGE_SIZE = 50;

/**
 * One page of a keyset search asked with `limit: LIST_PAGE_SIZE + 1`: the rows to show, and the cursor
 * (`<time>.<id>`, read back by parseCursor) of the last one when there are older rows.
 */
export function keysetPage<T>(
  rows: T[],
  cursorOf: (row: T) => [number, string],
): { items: T[]; next: string | null } {
  const items = rows.slice(0, LIST_PAGE_SIZE);
  const last = items.at(-1);
  if (rows.length <= LIST_PAGE_SIZE || !last) return { items, next: null };
  const [at, id] = cursorOf(last);
  return { items, next: `${at}.${id}` };
}

/** `1700000000000.fx_abc` → its parts; null for anything else. */
export function parseCursor(text: unknown): { at: number; id: string } | null {
  if (typeof text !== 'string') return null;
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{1,100})$/.exec(text);
  return match ? { at: Number(match[1]), id: match[2]! } : null;
}

/** A query parameter as one trimmed string ('' when absent or repeated oddly). */
export function param(ctx: Koa.Context, name: string): string {
  const value = ctx.query[name];
  return typeof value === 'string' ? value.trim().slice(0, 200) : '';
}

/** What people type into a number box: spaces, dashes, dots and brackets go. */
export function numberPrefix(text: string): string {
  return text.replace(/[\s\-().]/g, '');
}
