import type { Readable } from 'node:stream';

/**
 * Where documents live: local disk for one instance, S3 for several (docs/behaviour.md §9). `put` returns
 * only once the bytes are durable, because a 250 follows it.
 */
export interface DocumentStorage {
  readonly driver: 'local' | 's3';
  /** Moves or uploads the file at `sourcePath` under `key`; the source may be removed afterwards. */
  put(key: string, sourcePath: string, contentType: string, options?: PutOptions): Promise<void>;
  /** Streams the stored bytes; rejects with FaxError('not_found') when they are gone. */
  openRead(key: string): Promise<{ stream: Readable; size: number }>;
  /** A URL Telnyx can fetch without redirects or credentials, valid for `ttlMs`. */
  mediaUrl(key: string, ttlMs: number, now: number): Promise<string>;
  delete(key: string): Promise<void>;
  /** The file's path when documents are on local disk, for attaching without a copy. */
  localPath?(key: string): string;
  /** Throws when storage is not usable (for /readyz and the 451 decision). */
  ping(): Promise<void>;
}

export interface PutOptions {
  /**
   * The fsync of the source file, already started by the caller (while it did other work): local storage waits
   * for it instead of syncing the file again before moving it into place.
   */
  sourceSynced?: Promise<void>;
}
