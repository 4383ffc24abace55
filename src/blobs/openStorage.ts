import path from 'node:path';

import type { Config } from '../config/loadConfig.js';
import { FaxError } from '../errors.js';
import type { UrlSigner } from '../lib/urlSigner.js';
import type { DocumentStorage } from './documentStorage.js';
import { makeLocalStorage } from './localStorage.js';

/**
 * The document storage `storage.driver` names: local disk under `<data_dir>/documents` (one instance; media
 * URLs are HMAC-signed links to our own listener) or an S3 bucket (several instances; presigned URLs).
 */
export async function openStorage(options: {
  config: Config;
  /** Read at each call: with port 0 the public URL is known only once the HTTP listener is bound. */
  publicUrl: () => string;
  signer: UrlSigner;
}): Promise<DocumentStorage> {
  const { config, publicUrl, signer } = options;
  if (config.storage.driver === 'local') {
    return makeLocalStorage({ root: path.join(config.data_dir, 'documents'), publicUrl, signer });
  }
  const s3 = config.storage.s3;
  // loadConfig refuses this already; kept so a hand-built Config cannot start without a bucket.
  if (!s3) throw new FaxError('config', 'storage.s3 is required when storage.driver is s3');
  // The AWS SDK is loaded only when documents live in S3 (it adds ~10 MB of RSS to every daemon otherwise).
  const { makeS3Storage } = await import('./s3Storage.js');
  return makeS3Storage({
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.force_path_style,
    serverSideEncryption: s3.server_side_encryption,
  });
}
