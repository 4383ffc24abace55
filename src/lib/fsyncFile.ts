import { open } from 'node:fs/promises';

/** Flushes a file (or a folder's entries) to disk, on libuv's thread pool. */
export async function fsyncFile(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
