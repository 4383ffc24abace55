import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { conversionTimedOut, ConvertError } from './convertErrors.js';
import type { ConvertOptions, ConvertResult } from './convertOptions.js';
import { convertPdf } from './convertPdf.js';
import type { OfficeFormat } from './documentKind.js';
import { SOFFICE_BINARY } from './sofficeBinary.js';

/** Kept from soffice's output to explain a failure; LibreOffice is chatty on stderr. */
const MAX_OUTPUT = 4096;

/**
 * Word, Excel, PowerPoint and OpenDocument files through LibreOffice headless (Debian's libreoffice-*-nogui).
 *
 * Each conversion starts its own soffice with a fresh profile directory: two soffice processes sharing a profile
 * hand their work to each other through a lock and a pipe, so a second conversion would wait for (or die with)
 * the first, and a crash could leave a broken profile behind for all later ones. soffice runs in its own process
 * group, because it forks (oosplash → soffice.bin); at the time limit the whole group is killed, not just the
 * launcher. How many run at once is the caller's business (makeConversionSlots), since this runs inside one
 * sandbox child and cannot see the others.
 */
export async function convertOfficeLocal(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions & { format: OfficeFormat; sofficePath?: string },
): Promise<ConvertResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'faxbridge-office-'));
  try {
    const source = join(workDir, `document.${options.format}`);
    const outDir = join(workDir, 'out');
    await mkdir(outDir);
    // LibreOffice picks its import filter partly by the extension, so the copy carries the sniffed one.
    await copyFile(inputPath, source);
    await runSoffice(options.sofficePath ?? SOFFICE_BINARY, workDir, source, outDir, options.timeoutMs);
    const produced = join(outDir, 'document.pdf');
    const made = await stat(produced).catch(() => null);
    // soffice exits 0 even when it could not load the file ("Error: source file could not be loaded").
    if (!made || made.size === 0) {
      throw new ConvertError(
        'unreadable',
        'cannot be opened by LibreOffice: it is damaged or not an Office file',
      );
    }
    return await convertPdf(produced, outputPath, options);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function runSoffice(
  binary: string,
  workDir: string,
  source: string,
  outDir: string,
  timeoutMs: number,
): Promise<void> {
  const profile = pathToFileURL(join(workDir, 'profile')).href;
  const args = [
    '--headless',
    '--invisible',
    '--norestore',
    '--nolockcheck',
    '--nodefault',
    '--nologo',
    `-env:UserInstallation=${profile}`,
    '--convert-to',
    'pdf',
    '--outdir',
    outDir,
    source,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // HOME too: some LibreOffice components write to ~/.config regardless of the profile given.
      env: { ...process.env, HOME: workDir, SAL_USE_VCLPLUGIN: 'svp' },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(
          new ConvertError('unavailable', 'the Office converter (LibreOffice) is not installed', {
            cause: error,
          }),
        );
      } else {
        reject(
          new ConvertError('unavailable', `the Office converter could not start: ${error.message}`, {
            cause: error,
          }),
        );
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever soffice left running in its group (a hung soffice.bin after oosplash exited) goes too.
      killGroup();
      if (timedOut) {
        reject(conversionTimedOut(timeoutMs));
      } else if (code !== 0) {
        reject(
          new ConvertError(
            'unreadable',
            `cannot be converted by LibreOffice (exit ${code ?? signal}): ${output.trim()}`,
          ),
        );
      } else {
        resolve();
      }
    });
  });
}
