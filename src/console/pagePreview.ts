import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { copyDocumentToFile } from '../blobs/copyDocument.js';
import type { DocumentStorage } from '../blobs/documentStorage.js';
import { runLimited } from '../lib/limitedCommand.js';
import { MB, SECOND } from '../lib/units.js';

/*
 * Page previews rendered by poppler's pdftoppm in a child process: a hostile or huge PDF can cost at most
 * RENDER_TIMEOUT_MS of one process, RENDER_MEMORY of address space (lib/limitedCommand.ts, as the receipts'
 * previews) and PNG_LIMIT bytes of output, never the daemon's event loop, and only MAX_RENDERS run at once
 * (more wait their turn).
 */
const RENDER_TIMEOUT_MS = 15 * SECOND;
const RENDER_MEMORY = 512 * MB;
const PNG_LIMIT = 8 * 1024 * 1024;
const MAX_RENDERS = 2;
/** Longest side of a preview in pixels: readable on a phone, light on the wire. */
const PREVIEW_PIXELS = 900;

export class PreviewError extends Error {}

export function makePagePreviewer(documents: DocumentStorage, tmpDir: string) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    while (running >= MAX_RENDERS) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
  };
  const release = () => {
    running -= 1;
    waiting.shift()?.();
  };

  /** PNG bytes of page `page` (1-based) of the stored PDF under `storageKey`. */
  return async function renderPage(storageKey: string, page: number): Promise<Buffer> {
    await acquire();
    try {
      return await withLocalFile(documents, storageKey, tmpDir, (file) => pdftoppm(file, page));
    } finally {
      release();
    }
  };
}

async function pdftoppm(file: string, page: number): Promise<Buffer> {
  const args = ['-png', '-f', String(page), '-l', String(page), '-scale-to', String(PREVIEW_PIXELS), file];
  const limits = { memoryBytes: RENDER_MEMORY, cpuSeconds: RENDER_TIMEOUT_MS / SECOND };
  return runLimited(draw, 'pdftoppm', args, limits).catch((error: unknown) => {
    // pdftoppm itself is missing (poppler-utils not installed): the viewer is told, as for any page not drawn.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PreviewError('the page could not be drawn');
    throw error;
  });
}

/** The PNG on pdftoppm's stdout; rejects with the spawn error itself (ENOENT) when `command` is not installed. */
function draw(command: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: 'buffer', timeout: RENDER_TIMEOUT_MS, maxBuffer: PNG_LIMIT, killSignal: 'SIGKILL' },
      (error, stdout) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(error);
        else if (error) {
          // Killed for its wall-clock time here, or for its CPU time by prlimit (SIGXCPU, then SIGKILL).
          const { killed, signal } = error as { killed?: boolean; signal?: string | null };
          const tooLong = killed || signal === 'SIGXCPU' || signal === 'SIGKILL';
          reject(
            new PreviewError(tooLong ? 'the page took too long to draw' : 'the page could not be drawn'),
          );
        } else if (stdout.length === 0) reject(new PreviewError('the document has no such page'));
        else resolve(stdout);
      },
    );
  });
}

/** Local storage hands out its own path; S3 objects are copied to a private temporary file first. */
async function withLocalFile<T>(
  documents: DocumentStorage,
  key: string,
  tmpDir: string,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const local = documents.localPath?.(key);
  if (local) {
    await documents.openRead(key).then(({ stream }) => stream.destroy()); // not_found when retention took it
    return fn(local);
  }
  const copy = path.join(tmpDir, `preview-${randomBytes(6).toString('hex')}.pdf`);
  try {
    await copyDocumentToFile(documents, key, copy);
    return await fn(copy);
  } finally {
    await rm(copy, { force: true });
  }
}
