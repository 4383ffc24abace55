import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { makeDocumentSandbox } from '../../src/documents/sandbox/documentSandbox.js';
import { MB, SECOND } from '../../src/lib/units.js';
import { makePdf, twoLayerObjectStreamPdf } from '../helpers/pdfFixtures.js';

/*
 * The sandbox's own limits, the backstop behind the structure check: with the check's limits lifted, a bomb
 * reaches pdf-lib inside the child, and the child is killed at its memory or time limit while this process
 * carries on. Runs the compiled child from dist/ (`npm run build` first).
 */

/** High enough that the structure check lets the 2 GB object stream through to pdf-lib. */
const NO_STRUCTURE_LIMITS = {
  maxObjectStreamBytes: 8192 * MB,
  maxStreamBytes: 8192 * MB,
  maxInflatedBytes: 8192 * MB,
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxbridge-sandbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(bytes: Buffer): Promise<string> {
  const path = join(dir, `doc-${Math.random().toString(36).slice(2)}.pdf`);
  await writeFile(path, bytes);
  return path;
}

describe('document sandbox', () => {
  it('runs a task in a child process and returns its answer', async () => {
    const sandbox = makeDocumentSandbox();
    const outcome = await sandbox.run('inspectPdf', { path: await fileWith(await makePdf(4)) });
    expect(outcome).toEqual({ ok: true, value: { kind: 'pages', pages: 4 } });
  });

  it('kills a child past its memory limit, counting memory outside the heap', async () => {
    const sandbox = makeDocumentSandbox({ limits: { memoryBytes: 256 * MB, timeMs: 60 * SECOND } });
    const path = await fileWith(await twoLayerObjectStreamPdf());
    const before = process.memoryUsage().rss;
    const outcome = await sandbox.run('inspectPdf', { path, structureLimits: NO_STRUCTURE_LIMITS });
    expect(outcome).toMatchObject({ ok: false, limit: 'memory' });
    // The inflating happened in the child: this process did not grow by anything like it.
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * MB);
  });

  it('kills a child past its time limit', async () => {
    const sandbox = makeDocumentSandbox({ limits: { memoryBytes: 4096 * MB, timeMs: 300 } });
    const path = await fileWith(await twoLayerObjectStreamPdf());
    const outcome = await sandbox.run('inspectPdf', { path, structureLimits: NO_STRUCTURE_LIMITS });
    expect(outcome).toMatchObject({ ok: false, limit: 'time' });
  });

  it('runs at most `concurrency` children at once, and queues the rest', async () => {
    const sandbox = makeDocumentSandbox({ concurrency: 1 });
    const path = await fileWith(await makePdf(1));
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        sandbox.run('inspectPdf', { path }).then((outcome) => {
          expect(outcome.ok).toBe(true);
          order.push(n);
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3]);
  });
});
