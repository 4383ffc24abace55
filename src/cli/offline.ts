import type { DocumentStorage } from '../blobs/documentStorage.js';
import { openStorage } from '../blobs/openStorage.js';
import { loadUrlSecret } from '../blobs/urlSecret.js';
import { type Config, ConfigError, loadConfig } from '../config/loadConfig.js';
import { makeUrlSigner } from '../lib/urlSigner.js';
import type { JobStore } from '../store/jobStore.js';
import { openStore } from '../store/openStore.js';
import { type CliIo, ProblemError } from './io.js';

export interface OfflineContext {
  config: Config;
  store: JobStore;
}

/**
 * Loads the config as `start` would (file + environment) and fails with every problem printed, exit 1.
 * The warnings are for check-config and start; commands that only read or queue stay quiet about them.
 */
export function loadConfigOrExplain(file: string | null, io: CliIo): Config {
  try {
    return loadConfig(file).config;
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) io.err(`${problem.key}: ${problem.message}`);
      throw new ProblemError(`the configuration${file ? ` in ${file}` : ''} has problems`);
    }
    throw error;
  }
}

/**
 * Runs `fn` against the daemon's own store (the same `database.url`), beside a running daemon or without one:
 * SQLite serialises writers, PostgreSQL has row locks, and every change a command makes goes through the same
 * lease rules as the workers. The schema is migrated first, so commands work before the first `start` too.
 */
export async function withStore<T>(
  file: string | null,
  io: CliIo,
  fn: (context: OfflineContext) => Promise<T>,
): Promise<T> {
  const config = loadConfigOrExplain(file, io);
  const store = await openStore(config.database.url);
  try {
    await store.migrate();
    return await fn({ config, store });
  } finally {
    await store.close();
  }
}

/** The daemon's document storage (local disk or S3), for a command that stores a document itself. */
export async function openDocuments(config: Config): Promise<DocumentStorage> {
  const signer = makeUrlSigner(await loadUrlSecret(config.http.url_secret, config.data_dir));
  const documents = await openStorage({ config, publicUrl: () => config.http.public_url, signer });
  await documents.ping();
  return documents;
}
