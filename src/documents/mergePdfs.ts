import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';

import { FaxError } from '../errors.js';
import { MB, SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import { tooComplex } from './inspectPdf.js';
import { qpdfDecrypt } from './qpdf.js';
import { type DocumentSandbox, sharedDocumentSandbox } from './sandbox/documentSandbox.js';

export interface MergedPdf {
  pages: number;
  size: number;
  sha256: string;
}

/**
 * Joins several PDFs into one fax document, pages in the order of `inputs` (the order they appeared in the mail).
 * The inputs are expected to have passed `inspectPdf`; the result is not checked against the fax limits here, the
 * caller compares `pages` and `size` (two 200-page PDFs are each fine and too many together).
 *
 * The merge runs in the document sandbox (pdf-lib parses every input again there). Owner-password-only inputs
 * are decrypted with qpdf first (pdf-lib cannot read encrypted objects), so their pages appear in the merged fax
 * unencrypted and without their editing restrictions; faxing is printing, which such files allow. Without qpdf
 * such a merge fails with `bad_document`.
 *
 * Memory: pdf-lib copies pages by reference to the source buffers, which stay alive until the output is written,
 * and `save()` builds the whole output in memory: peak is about twice the sum of the inputs, hence the sandbox's
 * larger allowance here than for reading one file.
 */
const MERGE_LIMITS = { memoryBytes: 1536 * MB, timeMs: 120 * SECOND };

export async function mergePdfs(
  inputs: string[],
  outPath: string,
  log?: Logger,
  sandbox: DocumentSandbox = sharedDocumentSandbox(),
): Promise<MergedPdf> {
  if (inputs.length === 0) throw new FaxError('internal', 'mergePdfs needs at least one PDF');
  const sources = inputs.map((input) => resolve(input));
  const scratch: string[] = [];
  try {
    // Each round either merges or names one input to decrypt; an input decrypted once is not encrypted again.
    for (let round = 0; round <= inputs.length; round += 1) {
      const outcome = await sandbox.run(
        'mergePdfs',
        { inputs: sources, outPath: resolve(outPath) },
        { log, limits: MERGE_LIMITS },
      );
      if (!outcome.ok) {
        const why =
          outcome.limit === 'time' ? 'they take too long to combine' : 'they need too much memory to combine';
        if (outcome.limit === 'crash')
          throw badDocument(`the PDFs could not be combined into one fax (${outcome.detail})`);
        throw badDocument(`the PDFs ${tooComplex(why).replace(/^is /, 'are ')}`);
      }
      const result = outcome.value;
      if (result.kind === 'merged') return { pages: result.pages, size: result.size, sha256: result.sha256 };
      const label = describe(result.index, inputs);
      const { reading } = result;
      if (reading.kind === 'too-complex')
        throw badDocument(`${label} ${tooComplex(`it has ${reading.detail}`)}`);
      if (reading.kind === 'unreadable' || scratch.includes(sources[result.index]!)) {
        throw badDocument(`${label} is damaged or not a PDF (cannot be read)`, reading);
      }
      const decrypted = `${outPath}.decrypted-${result.index + 1}.pdf`;
      try {
        await qpdfDecrypt(sources[result.index]!, resolve(decrypted));
      } catch (error) {
        throw badDocument(`${label} is encrypted and could not be opened for merging`, error);
      }
      scratch.push(resolve(decrypted));
      sources[result.index] = resolve(decrypted);
    }
    throw new FaxError('internal', 'mergePdfs did not finish');
  } catch (error) {
    await rm(outPath, { force: true });
    if (error instanceof FaxError) throw error;
    throw badDocument(`the PDFs could not be combined into one fax (${String(error)})`, error);
  } finally {
    await Promise.all(scratch.map((file) => rm(file, { force: true })));
  }
}

function badDocument(message: string, cause?: unknown): FaxError {
  return new FaxError('bad_document', message, { smtpCode: 554, enhancedCode: '5.6.0', cause });
}

function describe(index: number, inputs: string[]): string {
  return `PDF ${index + 1} of ${inputs.length}`;
}
