import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { MB } from '../../src/lib/units.js';

/*
 * Text bodies are never faxed, so extraction must not keep them: a message with a 128 MB text body and a 128 MB
 * HTML body is read in a fresh `node` process (the compiled dist/ build), which reports its peak resident memory
 * (VmHWM). mailparser alone keeps each body whole, and joins it in further copies: hundreds of MB. Read through
 * and dropped, the peak stays near the process's idle size.
 */

const EXTRACT = fileURLToPath(new URL('../../dist/src/documents/extractDocuments.js', import.meta.url));
const BODY_MB = 128;
/** A bare node process with mailparser loaded sits near 60–80 MB. */
const PEAK_LIMIT = 160 * MB;

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
const { extractDocuments } = await import(process.argv[1]);
const mb = Number(process.argv[2]);
const line = 'All work and no play makes Jack a dull boy, all work and no play makes Jack a dull boy.\\r\\n';
function* message() {
  yield 'From: alice@example.com\\r\\nTo: +15551234567@fax.example.com\\r\\nSubject: long\\r\\nMIME-Version: 1.0\\r\\n';
  yield 'Content-Type: multipart/alternative; boundary="b"\\r\\n\\r\\n';
  for (const type of ['text/plain', 'text/html']) {
    yield '--b\\r\\nContent-Type: ' + type + '; charset=utf-8\\r\\n\\r\\n';
    const chunk = line.repeat(Math.floor(65536 / line.length));
    for (let sent = 0; sent < mb * 1024 * 1024; sent += chunk.length) yield chunk;
  }
  yield '--b--\\r\\n';
}
const dir = mkdtempSync(join(tmpdir(), 'fb-bodies-'));
const result = await extractDocuments(Readable.from(message()), dir);
rmSync(dir, { recursive: true, force: true });
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
console.log(JSON.stringify({ subject: result.subject, pdfs: result.documents.length, others: result.others.length, peak: Number(hwm) * 1024 }));
`;

function extractInChild(): Promise<{ subject: string; pdfs: number; others: number; peak: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT, EXTRACT, String(BODY_MB)],
      { maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

describe('extractDocuments and large text bodies', () => {
  it('reads a message with 2 × 128 MB of body text without keeping it', async () => {
    const result = await extractInChild();
    // Headers are still read, and a body is neither a document nor an "other" attachment.
    expect(result).toMatchObject({ subject: 'long', pdfs: 0, others: 0 });
    expect(result.peak).toBeLessThan(PEAK_LIMIT);
  }, 120_000);
});
