import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { findOfficeConverter } from '../../src/documents/convert/findOfficeConverter.js';
import { startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * What the operator is told at start about Office files: the LibreOffice found (its version and where it is), the
 * Gotenberg service used, or that Office files are refused. Read from the daemon's own log lines.
 */
const started: TestDaemon[] = [];
afterAll(async () => {
  await Promise.all(started.map((env) => env.stop()));
});

async function converterLine(office: string): Promise<Record<string, unknown>> {
  const sink = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  sink.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
  });
  started.push(
    await startTestDaemon({
      yaml: `documents:\n  office: ${JSON.stringify(office)}\n`,
      logDestination: sink,
    }),
  );
  return waitFor(
    () => lines.find((line) => typeof line.converter === 'string'),
    20_000,
    'the Office converter announced',
  );
}

describe('the daemon says at start which Office converter it found', () => {
  it('names the local LibreOffice by version and path', async () => {
    const line = await converterLine('local');
    const installed = /LibreOffice [\d.]+/.exec(
      execFileSync('soffice', ['--version'], { encoding: 'utf8' }),
    )![0];
    expect(line.msg).toBe(`Office files are converted by ${installed} at ${line.path as string}`);
    expect(line.path).toMatch(/\/soffice$/);
  });

  it('names the Gotenberg service, or says Office files are refused', async () => {
    expect((await converterLine('http://gotenberg.internal:3000')).msg).toBe(
      'Office files are converted by the Gotenberg service at http://gotenberg.internal:3000',
    );
    expect((await converterLine('off')).msg).toBe('Office files are refused (documents.office: off)');
  });

  it('finds no LibreOffice on a PATH without one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fb-path-'));
    try {
      expect(await findOfficeConverter('local', { path: empty })).toEqual({ kind: 'local-missing' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
