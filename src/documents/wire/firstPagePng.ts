import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SECOND } from '../../lib/units.js';
import {
  BACKGROUND_MEMORY_BYTES,
  type DocumentSandbox,
  sharedDocumentSandbox,
} from '../sandbox/documentSandbox.js';
import { PREVIEW_TIMEOUT } from './renderFirstPage.js';

/**
 * Half the outbox's lease on the row (src/mail/outboxWorker.ts, one minute): the rest is for composing and
 * sending the mail, so a slow preview never lets another instance take the row and send the mail twice. An
 * ordinary page takes a fraction of a second of CPU.
 */
const PREVIEW_DEADLINE = 30 * SECOND;

/**
 * The first page of a PDF as a PNG, for the inline preview in receipts and received-fax mails; null when the
 * tool is missing or the page cannot be drawn: the mail then goes without a preview.
 *
 * Every delivered receipt and every received fax has one, and drawing it (pdftoppm, then sharp's PNG encoding:
 * renderFirstPage.ts) was most of the CPU a fax costs after its 250. So it runs as background work of the
 * document sandbox: in a niced child, on the background lane's own slots, where it yields the CPU to intake
 * instead of taking it from the daemon's process (src/documents/sandbox/documentSandbox.ts).
 *
 * But a mail waits for it, inside the outbox's lease on its row (src/mail/outboxWorker.ts), and the outbox sends
 * one mail at a time: so a preview goes ahead of the builds queued on that lane (priority `soon`), and it has
 * PREVIEW_DEADLINE in all, the wait for a slot included, after which the mail goes without it.
 */
export async function firstPagePng(
  pdf: Uint8Array | string,
  sandbox: DocumentSandbox = sharedDocumentSandbox(),
  deadlineMs = PREVIEW_DEADLINE,
): Promise<Buffer | null> {
  const dir = await mkdtemp(path.join(tmpdir(), 'faxbridge-preview-'));
  const giveUp = new AbortController();
  const deadline = setTimeout(() => giveUp.abort(new Error('the preview is late')), deadlineMs);
  try {
    const pdfPath = typeof pdf === 'string' ? pdf : path.join(dir, 'in.pdf');
    if (typeof pdf !== 'string') await writeFile(pdfPath, pdf);
    const pngPath = path.join(dir, 'page.png');
    const outcome = await sandbox.run(
      'firstPagePng',
      { pdfPath, pngPath },
      { limits: PREVIEW_LIMITS, priority: 'soon', signal: giveUp.signal },
    );
    if (!outcome.ok || !outcome.value.drawn) return null;
    return await readFile(pngPath);
  } catch {
    return null;
  } finally {
    clearTimeout(deadline);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The child holds node, sharp and one page's pixels (under 1 MB at this size); pdftoppm's memory and CPU are
 * its own process's, capped by prlimit (renderFirstPage.ts). The memory limit is the builds' only so that
 * both share their warm children. The time (the child's own CPU: loading sharp, encoding) is ample.
 */
const PREVIEW_LIMITS = { memoryBytes: BACKGROUND_MEMORY_BYTES, timeMs: PREVIEW_TIMEOUT + 10 * SECOND };
