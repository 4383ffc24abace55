import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { fetch, FormData } from 'undici';

import { conversionTimedOut, ConvertError } from './convertErrors.js';
import type { ConvertOptions, ConvertResult } from './convertOptions.js';
import { convertPdf } from './convertPdf.js';
import type { OfficeFormat } from './documentKind.js';

/**
 * Office files through a Gotenberg service (documents.office: its URL), for sites where one machine should not
 * run LibreOffice itself. Gotenberg's documented route: `POST /forms/libreoffice/convert`, multipart/form-data with
 * the document in a field named `files`; the answer is the PDF. Gotenberg answers 503 while it is starting or
 * overloaded; that and a refused connection mean "try later" (451), while a 400 means it could not open the file.
 * The PDF that comes back goes through the same PDF step as any other (fitted to the paper, page count checked).
 */
export async function convertOfficeGotenberg(
  inputPath: string,
  outputPath: string,
  options: ConvertOptions & { format: OfficeFormat; url: string },
): Promise<ConvertResult> {
  const endpoint = new URL(
    'forms/libreoffice/convert',
    options.url.endsWith('/') ? options.url : `${options.url}/`,
  );
  const form = new FormData();
  // Gotenberg picks LibreOffice's import filter by the file name's extension.
  form.append('files', new Blob([await readFile(inputPath)]), `document.${options.format}`);
  let response: Awaited<ReturnType<typeof fetch>>;
  let body: Uint8Array;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      body: form,
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { 'user-agent': 'faxbridge' },
    });
    body = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw conversionTimedOut(options.timeoutMs);
    }
    throw new ConvertError('unavailable', `the Office converter at ${endpoint.origin} cannot be reached`, {
      cause: error,
    });
  }
  if (response.status === 503 || response.status === 429 || response.status >= 500) {
    throw new ConvertError(
      'unavailable',
      `the Office converter answered ${response.status}; try again later`,
    );
  }
  if (response.status !== 200) {
    throw new ConvertError(
      'unreadable',
      'cannot be opened by the Office converter: it is damaged or not an Office file',
    );
  }
  const workDir = await mkdtemp(join(tmpdir(), 'faxbridge-gotenberg-'));
  try {
    const produced = join(workDir, 'document.pdf');
    await writeFile(produced, body);
    return await convertPdf(produced, outputPath, options);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
