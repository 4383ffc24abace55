import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { convertDocument, type DocumentConvertOptions } from '../convert/convertDocument.js';
import type { ConvertErrorCode } from '../convert/convertErrors.js';
import { isConvertErrorLike } from '../convert/convertErrors.js';
import type { DocumentKind } from '../convert/documentKind.js';
import { readTnef } from '../convert/readTnef.js';
import type { SandboxTaskContext } from './sandboxTasks.js';

/**
 * The conversion work of the document sandbox: turning a photo, scan, text or Office file into fax pages, and
 * unwrapping a winmail.dat, both on bytes a stranger sent. A refusal (ConvertError) is answered as a value, not
 * thrown, because a thrown error crosses the IPC channel as its message only and the daemon needs its code to
 * choose the SMTP reply (550, 554 or 451).
 */
export type ConvertFailure = { ok: false; code: ConvertErrorCode; message: string };

export interface ConvertTaskInput {
  kind: DocumentKind;
  inputPath: string;
  outputPath: string;
  options: DocumentConvertOptions;
}

export async function convertDocumentTask(
  input: ConvertTaskInput,
  context: SandboxTaskContext,
): Promise<{ ok: true; pages: number } | ConvertFailure> {
  try {
    const { pages } = await convertDocument(input.kind, input.inputPath, input.outputPath, input.options);
    return { ok: true, pages };
  } catch (error) {
    return asFailure(error, context);
  }
}

export interface UnwrapTnefInput {
  path: string;
  /** Where the attachments are written, as `tnef-<n>` (never under the names the sender chose). */
  outDir: string;
}

export async function unwrapTnefTask(
  input: UnwrapTnefInput,
  context: SandboxTaskContext,
): Promise<{ ok: true; files: { path: string; name: string }[] } | ConvertFailure> {
  try {
    const attachments = readTnef(await readFile(input.path));
    const files: { path: string; name: string }[] = [];
    for (const [index, attachment] of attachments.entries()) {
      const path = join(input.outDir, `tnef-${index + 1}`);
      await writeFile(path, attachment.data, { flag: 'wx' });
      files.push({ path, name: attachment.name });
    }
    return { ok: true, files };
  } catch (error) {
    return asFailure(error, context);
  }
}

function asFailure(error: unknown, context: SandboxTaskContext): ConvertFailure {
  if (isConvertErrorLike(error)) return { ok: false, code: error.code, message: error.message };
  context.log.warn({ err: error }, 'conversion failed unexpectedly');
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, code: 'unreadable', message: `could not be read (${detail})` };
}
