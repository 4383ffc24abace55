import { execFile } from 'node:child_process';
import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

import { SECOND } from '../../lib/units.js';
import type { Logger } from '../../log.js';
import { SOFFICE_BINARY } from './sofficeBinary.js';

/**
 * Which Office converter `documents.office` leads to on this machine, for the operator: the daemon says it at
 * start and `check-config` warns when `local` finds no LibreOffice (docs/behaviour.md §10), since otherwise the
 * first Word file would be the first sign, answered 451 until someone installs it.
 *
 * LibreOffice is looked up on PATH the way the converter starts it (`soffice`); its version is asked of it
 * (`soffice --version`, a fraction of a second, no profile) only where the answer is worth the wait.
 */
export type OfficeConverter =
  | { kind: 'off' }
  | { kind: 'gotenberg'; url: string }
  | { kind: 'local'; path: string; version: string | null }
  | { kind: 'local-missing' };

/** Long enough for a cold start on a busy machine; past it the version is just not said. */
const VERSION_TIMEOUT = 15 * SECOND;

export interface FindOfficeConverterOptions {
  /** Ask LibreOffice its version (the daemon does; check-config need not). */
  version?: boolean;
  /** PATH to search, for tests; else the process's. */
  path?: string;
  signal?: AbortSignal;
}

export async function findOfficeConverter(
  office: string,
  options: FindOfficeConverterOptions = {},
): Promise<OfficeConverter> {
  if (office === 'off') return { kind: 'off' };
  if (office !== 'local') return { kind: 'gotenberg', url: office };
  const found = await findOnPath(SOFFICE_BINARY, options.path ?? process.env.PATH ?? '');
  if (!found) return { kind: 'local-missing' };
  const version = options.version ? await askVersion(found, options.signal) : null;
  return { kind: 'local', path: await realpath(found).catch(() => found), version };
}

/** One line for the log or the terminal: what an Office attachment will meet. */
export function describeOfficeConverter(converter: OfficeConverter): string {
  switch (converter.kind) {
    case 'off':
      return 'Office files are refused (documents.office: off)';
    case 'gotenberg':
      return `Office files are converted by the Gotenberg service at ${converter.url}`;
    case 'local':
      return `Office files are converted by ${converter.version ?? 'LibreOffice'} at ${converter.path}`;
    case 'local-missing':
      return (
        `local, but LibreOffice (${SOFFICE_BINARY}) is not on PATH: Office files will be ` +
        'answered 451 until it is installed (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui ' +
        'libreoffice-impress-nogui), or set documents.office to a Gotenberg URL or off'
      );
  }
}

async function findOnPath(binary: string, path: string): Promise<string | null> {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** "LibreOffice 7.4.7.2 40(Build:2)" → "LibreOffice 7.4.7.2"; null when it does not answer in time. */
function askVersion(binary: string, signal: AbortSignal | undefined): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      binary,
      ['--version'],
      { timeout: VERSION_TIMEOUT, killSignal: 'SIGKILL', signal, maxBuffer: 64 * 1024 },
      (error, stdout) => {
        const match = /LibreOffice\s+[\d.]+/.exec(String(stdout));
        resolve(error && !match ? null : (match?.[0] ?? null));
      },
    );
  });
}

/**
 * Logs at start which converter Office files will meet: info when there is one (or none on purpose), a warning
 * when `local` has no LibreOffice. Runs beside start-up, never delaying it; `signal` ends it with the daemon.
 */
export async function announceOfficeConverter(
  office: string,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  try {
    const converter = await findOfficeConverter(office, { version: true, signal });
    if (signal.aborted) return;
    const fields = { converter: converter.kind, ...('path' in converter ? { path: converter.path } : {}) };
    if (converter.kind === 'local-missing') {
      log.warn(fields, `documents.office: ${describeOfficeConverter(converter)}`);
    } else log.info(fields, describeOfficeConverter(converter));
  } catch (error) {
    if (!signal.aborted) log.warn({ err: error }, 'could not find out which Office converter is installed');
  }
}
