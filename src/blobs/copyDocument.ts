import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

import { keepHeapTightWhile } from '../lib/leanHeap.js';
import { PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import type { DocumentStorage } from './documentStorage.js';

/**
 * The stored document `key` copied to `target`, a new private file: streamed, never held whole, with the daemon's
 * heap kept tight while a large one passes (lib/leanHeap.ts). Rejects as openRead does for a missing document.
 */
export async function copyDocumentToFile(
  documents: DocumentStorage,
  key: string,
  target: string,
): Promise<void> {
  const { stream, size } = await documents.openRead(key);
  keepHeapTightWhile(stream, size);
  await pipeline(stream, createWriteStream(target, { flags: 'wx', mode: PRIVATE_FILE_MODE }));
}
