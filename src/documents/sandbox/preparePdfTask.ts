import { isConvertErrorLike } from '../convert/convertErrors.js';
import type { ConvertOptions } from '../convert/convertOptions.js';
import { type PreparedPdf, preparePdf } from '../convert/convertPdf.js';
import { PROBLEM_UNREADABLE } from '../convert/pdfRefusals.js';
import type { ConvertFailure } from './convertTasks.js';
import type { SandboxTaskContext } from './sandboxTasks.js';

/**
 * A sender's PDF checked and made fit to fax (convert/convertPdf.ts), in the sandbox: the first parse of a stranger's PDF.
 * Its own module, so a child preparing a PDF loads pdf-lib only, not the image and Office converters.
 */
export interface PreparePdfInput {
  inputPath: string;
  /** Written only when the file needs a change (`written` in the answer); otherwise the input is faxed as is. */
  outputPath: string;
  options: ConvertOptions;
}

export async function preparePdfTask(
  input: PreparePdfInput,
  context: SandboxTaskContext,
): Promise<({ ok: true } & PreparedPdf) | ConvertFailure> {
  try {
    return { ok: true, ...(await preparePdf(input.inputPath, input.outputPath, input.options, context.log)) };
  } catch (error) {
    if (isConvertErrorLike(error)) return { ok: false, code: error.code, message: error.message };
    context.log.warn({ err: error }, 'PDF could not be prepared');
    return { ok: false, code: 'unreadable', message: PROBLEM_UNREADABLE };
  }
}
