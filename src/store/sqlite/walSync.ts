import { type FileHandle, open } from 'node:fs/promises';

import { FaxError } from '../../errors.js';
import { makeSharedFsync } from '../../lib/sharedFsync.js';

/**
 * Makes what was committed so far durable without blocking the event loop. SQLite runs with
 * `synchronous=NORMAL` (sqliteDb.ts): a COMMIT writes its frames to the WAL file but does not fsync them, so it
 * is safe against a crash of the process (kill -9: the frames are in the kernel's page cache) but not yet against
 * power loss. `sync()` fsyncs the WAL file on libuv's thread pool; once it resolves, every transaction committed
 * before the call is on disk, as `synchronous=FULL` would have made it, but the event loop went on serving SMTP
 * sessions meanwhile instead of waiting for the disk inside better-sqlite3 (docs/dependencies.md, better-sqlite3).
 *
 * Why the WAL alone is enough: a commit only appends to the WAL; SQLite itself syncs the WAL before it copies
 * frames into the database file (checkpoint), the database file after that, and the WAL header when it starts
 * reusing the file. fsync(2) flushes the file, whoever wrote it, whichever descriptor asks. The descriptor is
 * kept open: SQLite deletes the WAL file only when the last connection closes, and ours is open until close().
 * Commits waiting at once share one fsync (lib/sharedFsync.ts).
 *
 * A failed fsync is final for this database: Linux may have dropped the pages it could not write, and a later
 * fsync that succeeds would say nothing about them, so nothing written since the last good one can be called
 * durable again. Every later sync (so every write, and every read that saw unsynced commits) rejects as
 * database_unavailable: SMTP answers 451, webhooks 503, /readyz fails, until a restart lets SQLite recover from
 * what really is on disk.
 */
export interface WalSync {
  /** Resolves once everything committed before the call is on disk; rejects (database_unavailable) if it cannot be. */
  sync(): Promise<void>;
  /** Waits for the fsync in progress, then closes the file. */
  close(): Promise<void>;
}

export function makeWalSync(walFile: string): WalSync {
  let handle: Promise<FileHandle> | null = null;
  let failed: FaxError | null = null;
  const shared = makeSharedFsync(async () => {
    if (failed) throw failed;
    try {
      // Opened on first use: SQLite creates the WAL file with the first transaction, not at `journal_mode=WAL`.
      handle ??= open(walFile, 'r');
      await (await handle).sync();
    } catch (error) {
      failed ??= new FaxError(
        'database_unavailable',
        `database not synced to disk (${(error as Error).message}); restart faxbridge once the disk is fixed`,
        { retryable: true, cause: error },
      );
      const broken = handle;
      handle = null;
      void broken?.then((opened) => opened.close()).catch(() => undefined);
      throw failed;
    }
  });

  return {
    sync: () => (failed ? Promise.reject(failed) : shared.sync()),
    async close() {
      await shared.idle();
      const opened = handle;
      handle = null;
      if (opened) await (await opened.catch(() => null))?.close();
    },
  };
}
