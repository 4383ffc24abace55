import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { makePrivateDir, PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import type { DocumentStorage } from './documentStorage.js';

const TEMP_FOLDER = ['tmp', 'attachments'];

/**
 * A file a mail can attach: the stored file itself on local disk, or a copy fetched from S3 into
 * `<data_dir>/tmp/attachments`, which `removeTemporaryAttachments` empties once the mail has gone.
 */
export async function attachablePath(
  documents: DocumentStorage,
  dataDir: string,
  key: string,
): Promise<string> {
  if (documents.localPath) return documents.localPath(key);
  const dir = path.join(dataDir, ...TEMP_FOLDER);
  await makePrivateDir(dir);
  const file = path.join(dir, path.basename(key));
  const { stream } = await documents.openRead(key);
  await pipeline(stream, createWriteStream(file, { mode: PRIVATE_FILE_MODE }));
  return file;
}

export async function removeTemporaryAttachments(
  dataDir: string,
  attachments: ReadonlyArray<{ path: string }>,
): Promise<void> {
  const dir = path.join(dataDir, ...TEMP_FOLDER) + path.sep;
  for (const attachment of attachments) {
    if (attachment.path.startsWith(dir)) await rm(attachment.path, { force: true });
  }
}
