import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { makePrivateDir, PRIVATE_FILE_MODE } from '../lib/privateFiles.js';

/**
 * The HMAC key for signed links: `http.url_secret` when configured (required for several instances), else
 * one generated once and kept in data_dir so links stay valid across restarts.
 */
export async function loadUrlSecret(configured: string | undefined, dataDir: string): Promise<string> {
  if (configured) return configured;
  const file = path.join(dataDir, 'url-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // Not there yet: make one below.
  }
  await makePrivateDir(dataDir);
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: PRIVATE_FILE_MODE });
  return secret;
}
