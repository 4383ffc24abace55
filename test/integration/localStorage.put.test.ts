import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { makeLocalStorage } from '../../src/blobs/localStorage.js';
import { makeUrlSigner } from '../../src/lib/urlSigner.js';

/*
 * In a container the file being stored may sit on another file system than the documents folder (/tmp and the
 * /data volume are two mounts), where a rename fails with EXDEV. /dev/shm (tmpfs) and the disk stand in for them.
 */
describe.skipIf(!existsSync('/dev/shm'))('local document storage: put across file systems', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('stores a file that lives on another file system, owner-only, and removes the source', async () => {
    const source = mkdtempSync('/dev/shm/fb-put-');
    const root = mkdtempSync(path.join(os.tmpdir(), 'fb-docs-'));
    made.push(source, root);
    expect(statSync(source).dev).not.toBe(statSync(root).dev);
    const file = path.join(source, 'doc.pdf');
    writeFileSync(file, '%PDF-1.7\nbytes\n');
    const storage = makeLocalStorage({
      root,
      publicUrl: () => 'http://127.0.0.1:1',
      signer: makeUrlSigner('s'.repeat(32)),
    });
    await storage.put('doc_1.pdf', file, 'application/pdf');
    expect(readFileSync(path.join(root, 'doc_1.pdf'), 'utf8')).toBe('%PDF-1.7\nbytes\n');
    expect(statSync(path.join(root, 'doc_1.pdf')).mode & 0o077).toBe(0);
    expect(existsSync(file)).toBe(false);
  });
});

describe('local document storage: put into its folders', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('stores into a folder made by an earlier put, and into one removed since then', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'fb-put-work-'));
    const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'fb-docs-')), 'documents');
    made.push(work, path.dirname(root));
    const storage = makeLocalStorage({
      root,
      publicUrl: () => 'http://127.0.0.1:1',
      signer: makeUrlSigner('s'.repeat(32)),
    });
    const put = async (key: string) => {
      const file = path.join(work, key);
      writeFileSync(file, `%PDF-1.7\n${key}\n`);
      await storage.put(`sub/${key}`, file, 'application/pdf');
      expect(readFileSync(path.join(root, 'sub', key), 'utf8')).toBe(`%PDF-1.7\n${key}\n`);
    };
    await put('a.pdf');
    await put('b.pdf');
    rmSync(path.join(root, 'sub'), { recursive: true });
    await put('c.pdf');
    expect(statSync(path.join(root, 'sub')).mode & 0o077).toBe(0);
  });

  it("waits for the caller's fsync of the source when it was started already, and fails with it", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'fb-put-work-'));
    const root = mkdtempSync(path.join(os.tmpdir(), 'fb-docs-'));
    made.push(work, root);
    const storage = makeLocalStorage({
      root,
      publicUrl: () => 'http://127.0.0.1:1',
      signer: makeUrlSigner('s'.repeat(32)),
    });
    const file = path.join(work, 'part-1');
    writeFileSync(file, '%PDF-1.7\nsynced\n');
    let synced = false;
    const sourceSynced = new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => {
      synced = true;
    });
    await storage.put('doc_2.pdf', file, 'application/pdf', { sourceSynced });
    expect(synced).toBe(true);
    expect(readFileSync(path.join(root, 'doc_2.pdf'), 'utf8')).toBe('%PDF-1.7\nsynced\n');

    writeFileSync(file, '%PDF-1.7\nnot synced\n');
    const failed = Promise.reject(new Error('EIO: i/o error, fsync'));
    failed.catch(() => undefined);
    await expect(storage.put('doc_3.pdf', file, 'application/pdf', { sourceSynced: failed })).rejects.toThrow(
      'EIO',
    );
    expect(existsSync(path.join(root, 'doc_3.pdf'))).toBe(false);
  });
});
