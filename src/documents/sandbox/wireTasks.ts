import { readFile } from 'node:fs/promises';

import { type TransmitRequest, writeTransmittedPdf } from '../wire/buildTransmittedPdf.js';
import type { CoverValues } from '../wire/coverPage.js';
import type { HeaderValues } from '../wire/headerLine.js';
import { renderFirstPage } from '../wire/renderFirstPage.js';
import type { SandboxTaskContext } from './sandboxTasks.js';

/**
 * What goes on the wire, built in the document sandbox: pdf-lib loads the whole document, draws the cover page
 * and re-writes every page under its header line, which takes from a tenth of a second to many seconds of one
 * core for a large document. In the daemon that would stall SMTP and webhooks meanwhile; here it only takes a
 * sandbox slot. Files by path, in and out, as for every sandbox task.
 */
export interface BuildTransmittedInput {
  documentPath: string;
  outputPath: string;
  headerText: string | null;
  header: HeaderValues;
  cover: {
    values: Omit<CoverValues, 'pages'>;
    logoPath: string | null;
    templatePath: string | null;
  } | null;
}

export type BuiltTransmitted =
  | { ok: true; pages: number; size: number; sha256: string }
  /**
   * `passing`: the machine's trouble (a full disk, an I/O error), worth another try later; otherwise the document
   * itself cannot be redrawn, and trying again would fail the same way.
   */
  | { ok: false; passing: boolean; message: string };

export async function buildTransmittedTask(
  input: BuildTransmittedInput,
  _context: SandboxTaskContext,
): Promise<BuiltTransmitted> {
  try {
    return await build(input);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, passing: isSystemError(error), message };
  }
}

async function build(input: BuildTransmittedInput): Promise<BuiltTransmitted> {
  const request: TransmitRequest = {
    document: await readFile(input.documentPath),
    headerText: input.headerText,
    header: input.header,
    cover: input.cover && {
      values: input.cover.values,
      logo: input.cover.logoPath ? await readFile(input.cover.logoPath) : null,
      template: input.cover.templatePath ? await readFile(input.cover.templatePath) : null,
    },
  };
  // Written to the file as pdf-lib serializes it: the output is never a second whole copy in memory.
  const written = await writeTransmittedPdf(request, input.outputPath);
  return { ok: true, pages: written.pages, size: written.size, sha256: written.sha256 };
}

/** Node's errors from the system (ENOSPC, EIO, EMFILE…) carry an errno code; pdf-lib's never do. */
function isSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

export interface FirstPagePngInput {
  pdfPath: string;
  pngPath: string;
}

/**
 * A receipt's or received fax's first-page preview (src/documents/wire/renderFirstPage.ts), in a background
 * child: pdftoppm, which it starts, inherits its niceness. `drawn: false` when the page cannot be drawn.
 */
export async function firstPagePngTask(
  input: FirstPagePngInput,
  _context: SandboxTaskContext,
): Promise<{ drawn: boolean }> {
  return { drawn: await renderFirstPage(input.pdfPath, input.pngPath).catch(() => false) };
}
