/**
 * The console's send page: files uploaded in a browser become one fax the way an email's attachments do
 * (docs/behaviour.md §3 "The document"): each file is recognised by its bytes, photos, scans, TIFFs, text and
 * Office files are converted in the document sandbox onto the fax paper, every PDF is checked, and several are
 * merged in the order they were chosen. The result goes through queuePdf, the same intake as `faxbridge send`.
 * Every refusal is an OperatorRefusal naming the file, in the words the SMTP replies use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { assembleFaxPdf, FaxDocumentRefused } from '../documents/assembleFaxPdf.js';
import { classifyPart } from '../documents/classifyPart.js';
import { type ConversionSlots, makeConversionSlots } from '../documents/convert/conversionSlots.js';
import { REFUSAL_ADVICE } from '../documents/convert/documentKind.js';
import { sniffDocumentFile } from '../documents/convert/sniffDocumentKind.js';
import { convertParts, DocumentRefused } from '../documents/convertParts.js';
import type { FoundDocument } from '../documents/extractDocuments.js';
import { checkFaxNumber, loadPhoneNumbers } from '../domain/phoneNumber.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../lib/privateFiles.js';
import type { Logger } from '../log.js';
import type { JobRow } from '../store/jobStore.js';
import { OperatorRefusal } from './operatorActions.js';
import { queuePdf, type QueuePdfInput } from './queuePdf.js';

type QueuePdfDeps = Parameters<typeof queuePdf>[0];

export interface Upload {
  /** The name the browser gave (the user's file name). */
  name: string;
  /** The browser's guess from the name; only a text file is told apart by it, never anything else. */
  type: string;
  bytes: Buffer;
}

export interface QueueUploadsDeps extends QueuePdfDeps {
  /** Bounds Office conversions at once (LibreOffice is heavy). */
  officeSlots: ConversionSlots;
  log: Logger;
}

/** Office conversions of the send page at once, and waiting: an office's console sends a few at a time. */
const OFFICE_RUNNING = 1;
const OFFICE_WAITING = 4;

export type UploadInput = Omit<QueuePdfInput, 'file' | 'filename'> & { uploads: Upload[] };

/** `queueUploads` with Office conversion slots of its own (the SMTP listener has its own). */
export function makeUploadIntake(
  deps: Omit<QueueUploadsDeps, 'officeSlots'>,
): (input: UploadInput) => Promise<JobRow[]> {
  const officeSlots = makeConversionSlots(OFFICE_RUNNING, OFFICE_WAITING);
  return (input) => queueUploads({ ...deps, officeSlots }, input);
}

export async function queueUploads(deps: QueueUploadsDeps, input: UploadInput): Promise<JobRow[]> {
  const { config } = deps;
  if (input.uploads.length === 0) throw new OperatorRefusal('choose at least one document to send');
  // Numbers first: a typo should not wait for a conversion to be pointed out.
  await loadPhoneNumbers();
  for (const target of input.targets) {
    const verdict = checkFaxNumber(target, {
      defaultCountry: config.smtp.default_country,
      allowedCountries: config.smtp.allowed_countries,
      blockedPrefixes: config.smtp.blocked_prefixes,
    });
    if (!verdict.ok) throw new OperatorRefusal(verdict.reason);
  }
  const workDir = path.join(config.data_dir, 'tmp', `console-${randomBytes(6).toString('hex')}`);
  await makePrivateDir(workDir);
  try {
    const found = await recognise(input.uploads, workDir);
    const pdfs = await convertParts(found, {
      options: {
        paper: config.documents.paper,
        timeoutMs: config.documents.convert_timeout,
        office: config.documents.office,
      },
      officeSlots: deps.officeSlots,
      log: deps.log,
    }).catch((error: unknown) => {
      if (error instanceof DocumentRefused) throw new OperatorRefusal(`${error.filename} ${error.message}`);
      throw error;
    });
    if (pdfs.length === 0) throw new OperatorRefusal('the files hold no document to send');
    const document = await assembleFaxPdf(pdfs, workDir, deps.log).catch((error: unknown) => {
      if (error instanceof FaxDocumentRefused) throw new OperatorRefusal(error.message);
      throw error;
    });
    const { path: file, filename, ...checked } = document;
    return await queuePdf(deps, { ...input, file, filename, checked });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Each upload written to the work folder and recognised by its bytes; what cannot be faxed is refused. */
async function recognise(uploads: Upload[], workDir: string): Promise<FoundDocument[]> {
  const found: FoundDocument[] = [];
  for (const [index, upload] of uploads.entries()) {
    const filename = path.basename(upload.name || `document-${index + 1}`).slice(0, 200);
    const file = path.join(workDir, `upload-${index + 1}`);
    await writeFile(file, upload.bytes, { mode: PRIVATE_FILE_MODE });
    const kind = await sniffDocumentFile(file);
    const facts = { contentType: upload.type || 'application/octet-stream', filename };
    if (classifyPart({ ...facts, contentDisposition: 'attachment' }, kind) !== 'document')
      throw new OperatorRefusal(`${filename} ${REFUSAL_ADVICE.unknown}`);
    found.push({
      path: file,
      filename,
      contentType: facts.contentType,
      kind,
      size: upload.bytes.length,
      sha256: createHash('sha256').update(upload.bytes).digest('hex'),
      partId: String(index + 1),
    });
  }
  return found;
}
