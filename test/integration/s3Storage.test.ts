import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeS3Storage, type S3DocumentStorage } from '../../src/blobs/s3Storage.js';
import { FaxError } from '../../src/errors.js';
import { MB } from '../../src/lib/units.js';
import { type LocalS3, startLocalS3 } from '../helpers/s3rver.js';
import { freePort } from '../helpers/testDaemon.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Rejection of `promise` as a FaxError (fails the test when it resolves or throws something else). */
async function faxErrorOf(promise: Promise<unknown>): Promise<FaxError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(FaxError);
  return error as FaxError;
}

describe('S3 document storage against s3rver', () => {
  let s3: LocalS3;
  let storage: S3DocumentStorage;
  let workDir: string;
  const savedEnv = { ...process.env };
  const opened: S3DocumentStorage[] = [];
  const storageFor = (options: Partial<Parameters<typeof makeS3Storage>[0]> = {}) => {
    const made = makeS3Storage({
      bucket: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      ...options,
    });
    opened.push(made);
    return made;
  };
  /** A file in the work dir, as receive.ts hands it over (put may consume it). */
  const sourceFile = (bytes: Uint8Array) => {
    const file = path.join(workDir, `src-${randomBytes(4).toString('hex')}.pdf`);
    writeFileSync(file, bytes);
    return file;
  };
  const newKey = () => `doc_${randomBytes(6).toString('hex')}.pdf`;

  beforeAll(async () => {
    // The SDK's default chain reads the environment; s3rver accepts any credentials.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    s3 = await startLocalS3();
    storage = storageFor();
    workDir = mkdtempSync(path.join(tmpdir(), 'fb-s3test-'));
  });
  afterAll(async () => {
    for (const made of opened) made.close();
    await s3?.close();
    rmSync(workDir, { recursive: true, force: true });
    process.env = savedEnv;
  });

  it('stores a 12 MiB document in parts and reads it back byte for byte', async () => {
    const bytes = randomBytes(12 * MB);
    const key = newKey();
    const before = s3.requests.length;
    await storage.put(key, sourceFile(bytes), 'application/pdf');
    const uploads = s3.requests.slice(before);
    // lib-storage went multipart: 5 + 5 + 2 MiB parts, then CompleteMultipartUpload.
    expect(uploads.filter((line) => /^PUT .*partNumber=\d+/.test(line))).toHaveLength(3);
    expect(uploads.some((line) => /^POST .*uploadId=/.test(line))).toBe(true);

    const { stream, size } = await storage.openRead(key);
    expect(size).toBe(bytes.length);
    const read = await readAll(stream);
    expect(read.length).toBe(bytes.length);
    expect(sha256(read)).toBe(sha256(bytes));
  });

  it('stores a small document with one PUT and its content type', async () => {
    const bytes = Buffer.from('%PDF-1.4\nsmall document\n%%EOF\n');
    const key = newKey();
    await storage.put(key, sourceFile(bytes), 'application/pdf');
    const url = await storage.mediaUrl(key, 60_000, Date.now());
    const response = await request(url);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(Buffer.from(await response.body.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('gives a presigned URL that answers 200 with the exact bytes, without a redirect', async () => {
    const bytes = randomBytes(300_000);
    const key = newKey();
    await storage.put(key, sourceFile(bytes), 'application/pdf');
    const url = await storage.mediaUrl(key, 3600_000, Date.now());
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/${key}?`)).toBe(true);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600');
    // No checksum-mode parameter: WHEN_REQUIRED keeps the URL plain for any S3 clone.
    expect(url).not.toContain('x-amz-checksum-mode');

    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(sha256(body)).toBe(sha256(bytes));
  });

  it('caps the URL lifetime at the presign maximum of 7 days', async () => {
    const key = newKey();
    const url = await storage.mediaUrl(key, 30 * 24 * 3600_000, Date.now());
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('604800');
  });

  it('refuses a URL once its lifetime (url_ttl 1 s) has passed', async () => {
    const key = newKey();
    await storage.put(key, sourceFile(randomBytes(1000)), 'application/pdf');
    // The control gets a minute: a presigned URL's start is written in whole seconds, so a 1 s lifetime signed at
    // x.9 s may have only 100 ms left when the request arrives (seen failing under a loaded test run).
    const fresh = await request(await storage.mediaUrl(key, 60_000, Date.now()));
    await fresh.body.dump();
    expect(fresh.statusCode).toBe(200);
    // The same lifetime, counted from an attempt that started 5 s ago, has passed: no need to wait it out.
    const response = await request(await storage.mediaUrl(key, 1000, Date.now() - 5000));
    const text = await response.body.text();
    expect(response.statusCode).toBe(403);
    expect(text).toContain('AccessDenied');
  });

  it('deletes for retention: then openRead is not_found, and a second delete is harmless', async () => {
    const key = newKey();
    await storage.put(key, sourceFile(randomBytes(1000)), 'application/pdf');
    await storage.delete(key);
    const error = await faxErrorOf(storage.openRead(key));
    expect(error.code).toBe('not_found');
    await storage.delete(key);
    expect((await faxErrorOf(storage.openRead(newKey()))).code).toBe('not_found');
  });

  it('refuses keys outside the document key shape without asking S3', async () => {
    const before = s3.requests.length;
    for (const key of ['../etc/passwd', 'doc.txt', 'a//b.pdf', '']) {
      expect((await faxErrorOf(storage.openRead(key))).code).toBe('not_found');
    }
    expect(s3.requests.length).toBe(before);
  });

  it('keeps documents under the configured prefix', async () => {
    const prefixed = storageFor({ prefix: 'tenant-a' });
    const key = newKey();
    const bytes = randomBytes(2000);
    await prefixed.put(key, sourceFile(bytes), 'application/pdf');
    expect(existsSync(path.join(s3.directory, s3.bucket, 'tenant-a', `${key}._S3rver_object`))).toBe(true);
    expect((await readAll((await prefixed.openRead(key)).stream)).equals(bytes)).toBe(true);
    // The same object seen from an unprefixed client, and absent at the bucket root.
    expect((await readAll((await storage.openRead(`tenant-a/${key}`)).stream)).equals(bytes)).toBe(true);
    expect((await faxErrorOf(storage.openRead(key))).code).toBe('not_found');
  });

  it('pings the bucket, and fails the ping for a missing bucket or an endpoint that is down', async () => {
    await storage.ping();

    const missing = await faxErrorOf(storageFor({ bucket: 'no-such-bucket' }).ping());
    expect(missing.code).toBe('storage_unavailable');
    expect(missing.retryable).toBe(true);
    expect(missing.message).toContain('no-such-bucket');

    // A port that was just free: connection refused, which is retryable.
    const down = storageFor({ endpoint: `http://127.0.0.1:${await freePort()}` });
    const refused = await faxErrorOf(down.ping());
    expect(refused.code).toBe('storage_unavailable');
    expect(refused.retryable).toBe(true);
    const failedPut = await faxErrorOf(down.put(newKey(), sourceFile(randomBytes(10)), 'application/pdf'));
    expect(failedPut.code).toBe('storage_unavailable');
  });
});
