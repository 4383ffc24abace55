import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

/*
 * Owner-only files and folders. What a daemon keeps on disk is private: faxed documents, the database (whose
 * webhook events hold live signed media links), mails waiting in the outbox, the link-signing secret. Another
 * local account reading them would see every fax, so nothing is readable by the group or by others.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
const GROUP_AND_OTHERS = 0o077;

/** mkdir -p whose new folders are owner-only (existing ones are left to `tightenTree`). */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export interface TightenResult {
  /** Files and folders whose group/other permission bits were removed. */
  tightened: number;
  /** Entries that could not be changed (not ours, or gone meanwhile), with the reason. */
  failed: Array<{ path: string; reason: string }>;
}

/**
 * Removes the group and other bits from `root` and everything below it (a data dir written by a version that
 * left files 0644 in 0755 folders). Symbolic links are neither followed nor changed.
 */
export async function tightenTree(root: string): Promise<TightenResult> {
  const result: TightenResult = { tightened: 0, failed: [] };
  const visit = async (entry: string): Promise<void> => {
    let info;
    try {
      info = await lstat(entry);
    } catch (error) {
      result.failed.push({ path: entry, reason: (error as Error).message });
      return;
    }
    if (info.isSymbolicLink()) return;
    if ((info.mode & GROUP_AND_OTHERS) !== 0) {
      try {
        await chmod(entry, info.mode & 0o7700);
        result.tightened += 1;
      } catch (error) {
        result.failed.push({ path: entry, reason: (error as Error).message });
      }
    }
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(entry);
    } catch (error) {
      result.failed.push({ path: entry, reason: (error as Error).message });
      return;
    }
    for (const name of names) await visit(path.join(entry, name));
  };
  await visit(root);
  return result;
}

/**
 * Makes a SQLite database file owner-only before SQLite opens it. SQLite creates the `-wal` and `-shm` files
 * with the main file's permission bits, so an owner-only main file keeps them owner-only too; existing ones
 * (from an older version) are tightened here as well.
 */
export function preparePrivateDatabaseFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const candidate of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      const mode = statSync(candidate).mode;
      if ((mode & GROUP_AND_OTHERS) !== 0) chmodSync(candidate, mode & 0o7700);
    } catch {
      // Not there (or not ours to change): SQLite reports a file it cannot use when it opens it.
    }
  }
}
