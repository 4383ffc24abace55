import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Config } from '../../config/loadConfig.js';
import { coerceError } from '../../errors.js';
import { SECOND } from '../../lib/units.js';
import { openStore } from '../../store/openStore.js';
import { openDocuments } from '../offline.js';
import { type CheckResult, ok, problem, skipped } from './report.js';

/** Ed25519 raw keys become SPKI DER with this fixed prefix (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const TOOL_TIMEOUT = 20 * SECOND;

export function checkPublicKey(config: Config): CheckResult {
  const name = 'telnyx.public_key';
  if (config.sandbox) return skipped(name, 'sandbox mode: the simulator signs with its own key');
  const fix =
    'copy the public key from the Telnyx portal (Account Settings → Keys & Credentials → Public Key) into TELNYX_PUBLIC_KEY, as shown (base64)';
  const raw = Buffer.from(config.telnyx.public_key ?? '', 'base64');
  if (raw.length !== 32)
    return problem(name, `is ${raw.length} bytes once decoded, not the 32 of an Ed25519 key`, fix);
  try {
    createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (error) {
    return problem(name, `does not parse as an Ed25519 key: ${coerceError(error).message}`, fix);
  }
  return ok(name, 'an Ed25519 key: webhook signatures can be checked');
}

/** Where the outbox, the URL secret and (by default) the database and documents live. */
export async function checkDataDir(config: Config): Promise<CheckResult> {
  const name = 'data_dir';
  try {
    const probe = await mkdtemp(path.join(config.data_dir, '.doctor-'));
    await writeFile(path.join(probe, 'probe'), 'faxbridge doctor\n');
    await rm(probe, { recursive: true, force: true });
    return ok(name, `${config.data_dir} is writable`);
  } catch (error) {
    return problem(
      name,
      `${config.data_dir} is not writable: ${coerceError(error).message}`,
      `create it and give it to the user faxbridge runs as (e.g. chown -R faxbridge: ${config.data_dir})`,
    );
  }
}

/** Opens the store as the daemon does (migrations included, which write) and checks a SQLite file's folder. */
export async function checkDatabase(config: Config): Promise<CheckResult> {
  const name = 'database';
  const url = config.database.url;
  const shown = url.replace(/\/\/[^@/]*@/, '//…@');
  try {
    if (url.startsWith('sqlite:')) {
      const file = url.slice('sqlite:'.length);
      // SQLite's WAL and journal files are created beside the database, so the folder must be writable too.
      await access(path.dirname(file), constants.W_OK);
    }
    const store = await openStore(url);
    try {
      await store.migrate();
      await store.ping();
    } finally {
      await store.close();
    }
    return ok(name, `${shown} opens, is migrated and answers`);
  } catch (error) {
    return problem(
      name,
      `${shown}: ${coerceError(error).message}`,
      'check database.url, that the database server is up and that its user may create tables (or that the SQLite folder is writable)',
    );
  }
}

/** Stores, reads back and deletes a small probe document where the real ones go. */
export async function checkStorage(config: Config): Promise<CheckResult> {
  const name = `storage (${config.storage.driver})`;
  let scratch: string | null = null;
  try {
    const documents = await openDocuments(config);
    scratch = await mkdtemp(path.join(config.data_dir, '.doctor-'));
    const source = path.join(scratch, 'probe.pdf');
    await writeFile(source, '%PDF-1.4\n% faxbridge doctor probe, deleted at once\n');
    // Storage takes only document keys (folders of letters, digits, - and _, ending in .pdf).
    const key = `doctor/probe-${randomBytes(8).toString('hex')}.pdf`;
    await documents.put(key, source, 'application/pdf');
    const { stream } = await documents.openRead(key);
    stream.resume();
    await new Promise((resolve, reject) => stream.once('end', resolve).once('error', reject));
    await documents.delete(key);
    return ok(name, 'a probe document was stored, read back and deleted');
  } catch (error) {
    return problem(
      name,
      coerceError(error).message,
      config.storage.driver === 's3'
        ? 'check the bucket, endpoint and credentials (storage.s3.*, AWS_*): faxbridge needs PutObject, GetObject and DeleteObject'
        : `make ${config.data_dir} writable for the user faxbridge runs as`,
    );
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Office documents are converted with LibreOffice and pages are rendered with poppler: both are programs on
 * PATH, found by running them.
 */
export async function checkTools(): Promise<CheckResult[]> {
  return [
    await checkTool(
      'LibreOffice',
      ['soffice', 'libreoffice'],
      ['--version'],
      'apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui (Debian/Ubuntu)',
    ),
    await checkTool('poppler', ['pdftoppm'], ['-v'], 'apt-get install poppler-utils (Debian/Ubuntu)'),
  ];
}

async function checkTool(
  name: string,
  commands: string[],
  args: string[],
  fix: string,
): Promise<CheckResult> {
  for (const command of commands) {
    const version = await runVersion(command, args);
    if (version !== null) return ok(name, `${command}: ${version}`);
  }
  return problem(name, `${commands.join(' or ')} not found on PATH`, fix);
}

function runVersion(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: TOOL_TIMEOUT }, (error, stdout, stderr) => {
      if (error) return resolve(null);
      const first = `${stdout}${stderr}`.split('\n').find((line) => line.trim()) ?? 'found';
      resolve(first.trim());
    });
  });
}
