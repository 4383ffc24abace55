import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The part of s3rver 3.7.1 we use (the package ships no types). */
interface S3rverInstance {
  httpServer: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`: use with forcePathStyle (a bucket subdomain of an IP cannot resolve). */
  endpoint: string;
  port: number;
  bucket: string;
  /** Where s3rver keeps objects: `<directory>/<bucket>/<key>._S3rver_object`. */
  directory: string;
  /** `METHOD /path?query` of every request received, in order (to see multipart uploads happen). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A real S3-compatible server on loopback, port 0, with one bucket in its own temp directory. s3rver does
 * not check SigV4 signatures (any credentials work) but does enforce `X-Amz-Expires` (docs/dependencies.md,
 * @aws-sdk/client-s3).
 */
export async function startLocalS3(bucket = 'faxbridge-test'): Promise<LocalS3> {
  const directory = mkdtempSync(path.join(tmpdir(), 'fb-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const requests: string[] = [];
  server.httpServer.on('request', (request: { method?: string; url?: string }) =>
    requests.push(`${request.method} ${request.url}`),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    directory,
    requests,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
