import { createReadStream } from 'node:fs';
import { access, chmod, constants, copyFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { FaxError } from '../errors.js';
import { fsyncFile } from '../lib/fsyncFile.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import { makeSharedFsync, type SharedFsync } from '../lib/sharedFsync.js';
import type { UrlSigner } from '../lib/urlSigner.js';
import type { DocumentStorage } from './documentStorage.js';

const KEY_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*\.pdf$/;

/**
 * Documents as files under `<data_dir>/documents`, served to Telnyx by our HTTP listener at
 * `/media/<key>?expires=…&sig=…`. Single instance only (docs/behaviour.md §9).
 */
export function makeLocalStorage(options: {
  root: string;
  /** Read at each call: with port 0 the public URL is known only once the HTTP listener is bound. */
  publicUrl: () => string;
  signer: UrlSigner;
}): DocumentStorage {
  const { root, publicUrl, signer } = options;
  /**
   * Folders made (or found) by an earlier put, each with the fsync of its entries that puts at about the same
   * time share: one mkdir per folder, not two file system calls per document.
   */
  const madeDirs = new Map<string, SharedFsync>();
  /** The folder, made unless an earlier put made it; what it resolves to syncs the folder's entries. */
  const makeDir = async (dir: string): Promise<SharedFsync> => {
    let folder = madeDirs.get(dir);
    if (!folder) {
      await makePrivateDir(dir);
      folder = makeSharedFsync(() => fsyncFile(dir));
      madeDirs.set(dir, folder);
    }
    return folder;
  };
  const fileOf = (key: string) => {
    if (!KEY_PATTERN.test(key)) throw new FaxError('not_found', `invalid document key ${key}`);
    return path.join(root, key);
  };

  return {
    driver: 'local',

    async put(key, sourcePath, _contentType, options = {}) {
      const target = fileOf(key);
      const dir = path.dirname(target);
      let folder = await makeDir(dir);
      try {
        // The file keeps its mode through the rename; whoever wrote it, a stored document is owner-only.
        await chmod(sourcePath, PRIVATE_FILE_MODE);
        await (options.sourceSynced ?? fsyncFile(sourcePath));
        await moveFile(sourcePath, target).catch(async (error: unknown) => {
          // The folder was removed since (by hand): made again, once.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !madeDirs.delete(dir)) throw error;
          folder = await makeDir(dir);
          await moveFile(sourcePath, target);
        });
      } catch (error) {
        throw new FaxError('storage_unavailable', `cannot store document: ${(error as Error).message}`, {
          retryable: true,
          cause: error,
        });
      }
      // The rename is durable only once the directory entry is on disk.
      await folder.sync();
    },

    async openRead(key) {
      const file = fileOf(key);
      try {
        const info = await stat(file);
        return { stream: createReadStream(file), size: info.size };
      } catch (error) {
        throw new FaxError('not_found', `document ${key} is not stored`, { cause: error });
      }
    },

    async mediaUrl(key, ttlMs, now) {
      return `${publicUrl()}${signer.sign(`/media/${key}`, now + ttlMs)}`;
    },

    localPath: (key) => fileOf(key),

    async delete(key) {
      await rm(fileOf(key), { force: true });
    },

    async ping() {
      try {
        await makePrivateDir(root);
        await access(root, constants.W_OK);
        const probe = path.join(root, '.ping');
        await writeFile(probe, String(Date.now()), { mode: PRIVATE_FILE_MODE });
        await rm(probe, { force: true });
      } catch (error) {
        throw new FaxError(
          'storage_unavailable',
          `document storage not writable: ${(error as Error).message}`,
          {
            retryable: true,
            cause: error,
          },
        );
      }
    },
  };
}

/**
 * A rename, or a copy and delete when the file is on another file system (EXDEV: in a container, /tmp and the
 * /data volume are two mounts). The copy is fsynced before the source goes, so a crash leaves one of the two.
 */
async function moveFile(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const partial = `${target}.partial`;
    await copyFile(source, partial);
    await chmod(partial, PRIVATE_FILE_MODE);
    await fsyncFile(partial);
    await rename(partial, target);
    await rm(source, { force: true });
  }
}
