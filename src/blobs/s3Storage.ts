import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { FaxError } from '../errors.js';
import { keepHeapTightWhile } from '../lib/leanHeap.js';
import { MB, SECOND } from '../lib/units.js';
import type { DocumentStorage } from './documentStorage.js';

/** Same shape as local keys (`doc_….pdf`, optionally in folders): nothing else is ever read or signed. */
const KEY_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*\.pdf$/;
/**
 * SigV4 presigned URLs live at most one week (docs/dependencies.md, @aws-sdk/client-s3); config refuses a
 * longer url_ttl already.
 */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
/** S3's minimum part size; larger documents go up in 5 MiB parts, two at a time. */
const PART_SIZE = 5 * MB;
/** /readyz and the SMTP 451 decision must not hang on a dead endpoint. */
const PING_TIMEOUT = 5 * SECOND;

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix inside the bucket; a trailing `/` is added when missing (`faxbridge` → `faxbridge/doc_….pdf`). */
  prefix?: string;
  region: string;
  /** For S3-compatible stores (MinIO, Ceph RGW, Wasabi); absent = AWS. */
  endpoint?: string;
  forcePathStyle?: boolean;
  serverSideEncryption?: 'AES256' | 'aws:kms';
}

export interface S3DocumentStorage extends DocumentStorage {
  readonly driver: 's3';
  /** Closes the client's idle sockets (tests; the daemon's process exit does it otherwise). */
  close(): void;
}

/**
 * Documents in an S3 bucket, shared by every instance (docs/behaviour.md §9), handed to Telnyx as presigned
 * GET URLs.
 *
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, shared config
 * and AWS_PROFILE, web identity, container or instance role). The SDK warns on Node 20 at first use; set
 * AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true in the environment to silence it (CI does).
 *
 * Checksums are WHEN_REQUIRED: the SDK's default (WHEN_SUPPORTED) streams uploads as aws-chunked with a CRC32
 * trailer, which older MinIO and Ceph refuse and s3rver stores as corrupt bytes. See docs/dependencies.md
 * (@aws-sdk/client-s3).
 */
export function makeS3Storage(options: S3StorageOptions): S3DocumentStorage {
  const { bucket, serverSideEncryption } = options;
  const prefix =
    options.prefix && !options.prefix.endsWith('/') ? `${options.prefix}/` : (options.prefix ?? '');
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // socketTimeout is an idle timeout, so a slow but moving 50 MB transfer is not cut off.
    requestHandler: { connectionTimeout: 5 * SECOND, socketTimeout: 60 * SECOND },
  });
  const objectKey = (key: string) => {
    if (!KEY_PATTERN.test(key)) throw new FaxError('not_found', `invalid document key ${key}`);
    return `${prefix}${key}`;
  };

  return {
    driver: 's3',

    async put(key, sourcePath, contentType) {
      const Key = objectKey(key);
      try {
        const { size } = await stat(sourcePath);
        const body = createReadStream(sourcePath);
        // The upload is the one place a document's bytes pass through the daemon inside storage.
        keepHeapTightWhile(body, size);
        const upload = new Upload({
          client,
          params: {
            Bucket: bucket,
            Key,
            Body: body,
            ContentType: contentType,
            ContentLength: size,
            ServerSideEncryption: serverSideEncryption as ServerSideEncryption | undefined,
          },
          partSize: PART_SIZE,
          queueSize: 2,
          leavePartsOnError: false,
        });
        await upload.done();
        // Cheap proof that what S3 holds is what we read: a proxy or clone that stored chunk framing (or a
        // truncated body) would otherwise make a 250 for a document nobody can fax.
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
        if (head.ContentLength !== size) {
          throw new Error(`stored ${head.ContentLength} bytes for a ${size}-byte document`);
        }
      } catch (error) {
        throw storageError(error, `cannot store document ${key}`);
      }
    },

    async openRead(key) {
      const Key = objectKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
        return { stream: response.Body as Readable, size: response.ContentLength ?? 0 };
      } catch (error) {
        if (isMissing(error))
          throw new FaxError('not_found', `document ${key} is not stored`, { cause: error });
        throw storageError(error, `cannot read document ${key}`);
      }
    },

    async mediaUrl(key, ttlMs, now) {
      const expiresIn = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.ceil(ttlMs / SECOND)));
      try {
        // Signed at `now` so the URL lives exactly ttlMs from the attempt start the caller records.
        return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }), {
          expiresIn,
          signingDate: new Date(now),
        });
      } catch (error) {
        if (error instanceof FaxError) throw error;
        // Presigning is local; it fails only when no credentials can be found.
        throw storageError(error, `cannot sign a URL for document ${key}`);
      }
    },

    async delete(key) {
      try {
        // S3 answers 204 for a key that is already gone, so retention can repeat a delete safely.
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      } catch (error) {
        throw storageError(error, `cannot delete document ${key}`);
      }
    },

    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), {
          abortSignal: AbortSignal.timeout(PING_TIMEOUT),
        });
      } catch (error) {
        throw storageError(error, `bucket ${bucket} not usable`);
      }
    },

    close: () => client.destroy(),
  };
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function isMissing(error: unknown): boolean {
  const shape = error as AwsErrorShape;
  return (
    shape?.name === 'NoSuchKey' || shape?.name === 'NotFound' || shape?.$metadata?.httpStatusCode === 404
  );
}

/**
 * Everything other than a missing object is the operator's problem, not the sender's: network errors, 5xx and
 * throttling pass with time, and a wrong bucket, region or credential is fixed by the operator, after which a
 * sender's retry (451) succeeds. So all of them are retryable.
 */
function storageError(error: unknown, what: string): FaxError {
  if (error instanceof FaxError) return error;
  const shape = error as AwsErrorShape;
  const status = shape?.$metadata?.httpStatusCode;
  const reason = [shape?.name, status && `HTTP ${status}`, shape?.message].filter(Boolean).join(' ');
  return new FaxError('storage_unavailable', `${what}: ${reason || String(error)}`, {
    retryable: true,
    cause: error,
  });
}
