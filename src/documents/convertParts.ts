import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';

import { SECOND } from '../lib/units.js';
import type { Logger } from '../log.js';
import { classifyPart } from './classifyPart.js';
import type { ConversionSlots } from './convert/conversionSlots.js';
import type { DocumentConvertOptions } from './convert/convertDocument.js';
import { conversionTimedOut, ConvertError, type ConvertErrorCode } from './convert/convertErrors.js';
import { type DocumentKind, REFUSAL_ADVICE } from './convert/documentKind.js';
import { sniffDocumentFile } from './convert/sniffDocumentKind.js';
import type { FoundDocument } from './extractDocuments.js';
import { FAX_MAX_PAGES, PROBLEM_UNREADABLE, tooComplex } from './inspectPdf.js';
import { type DocumentSandbox, sharedDocumentSandbox } from './sandbox/documentSandbox.js';

/**
 * Turns the documents of a message, in message order, into PDFs ready for the PDF checks and the merge: a PDF is
 * checked, cut to start at `%PDF-`, its forms flattened and its pages fitted to the paper; a photo, scan,
 * text or Office file is converted in the document sandbox onto the fax paper; a winmail.dat is unwrapped there
 * and each file inside it taken the same way. Archives, encrypted parts and (with `documents.office: off`) Office
 * files are refused before anything is converted, so a sender is not kept waiting for a refusal.
 */
export interface FaxPdf {
  path: string;
  /** The name the sender gave the original (`Letter.docx`), for replies and receipts. */
  filename: string;
  size: number;
  sha256: string;
  /**
   * Pages, when this PDF has already had the PDF checks (structure, page tree, page limit) on the way here, so the
   * intake need not open it again; absent for converters' output and for PDFs that could not be opened here.
   */
  pages?: number;
}

/** A document that cannot be faxed; `code` decides the SMTP reply, `message` follows the file name. */
export class DocumentRefused extends Error {
  readonly filename: string;
  readonly code: ConvertErrorCode;

  constructor(filename: string, code: ConvertErrorCode, message: string) {
    super(message);
    this.name = 'DocumentRefused';
    this.filename = filename;
    this.code = code;
  }
}

export interface ConvertPartsDeps {
  options: DocumentConvertOptions;
  /** The daemon's bound on Office conversions at once (LibreOffice is heavy); one per daemon. */
  officeSlots: ConversionSlots;
  log?: Logger;
  sandbox?: DocumentSandbox;
}

/** soffice runs in its own process group with its own time limit; the sandbox's must not fire first. */
const SANDBOX_TIME_MARGIN = 10 * SECOND;
/** Decrypting an owner-password PDF with qpdf: well inside the sandbox's default 60 s for the whole check. */
const QPDF_TIMEOUT = 30 * SECOND;

export async function convertParts(documents: FoundDocument[], deps: ConvertPartsDeps): Promise<FaxPdf[]> {
  for (const found of documents) refuseOnPurpose(found.filename, found.kind, deps.options);
  const pdfs: FaxPdf[] = [];
  for (const found of documents) {
    if (found.kind.kind === 'tnef') pdfs.push(...(await unwrapTnef(found, deps)));
    else pdfs.push(await toPdf(found, deps));
  }
  return pdfs;
}

function refuseOnPurpose(filename: string, kind: DocumentKind, options: DocumentConvertOptions): void {
  if (kind.kind === 'archive') throw new DocumentRefused(filename, 'unsupported', REFUSAL_ADVICE.archive);
  if (kind.kind === 'encrypted') throw new DocumentRefused(filename, 'unsupported', REFUSAL_ADVICE.encrypted);
  if (kind.kind === 'office' && options.office === 'off') {
    throw new DocumentRefused(filename, 'unsupported', REFUSAL_ADVICE.officeOff);
  }
}

interface Source {
  path: string;
  filename: string;
  kind: DocumentKind;
  /** Size and SHA-256 of the file at `path`, when they were taken as it was written (extractDocuments.ts). */
  size?: number;
  sha256?: string;
}

async function toPdf(source: Source, deps: ConvertPartsDeps): Promise<FaxPdf> {
  const { kind } = source;
  if (kind.kind === 'pdf') return preparePdf(source, deps);
  const outputPath = `${source.path}.pdf`;
  const convert = () => runConversion(source, outputPath, deps);
  const onWait = () =>
    deps.log?.info({ file: source.filename }, 'Office conversion waits for a free converter');
  if (kind.kind === 'office') await deps.officeSlots.run(convert, onWait).catch(rethrowAs(source.filename));
  else await convert();
  return { path: outputPath, filename: source.filename, ...(await hashFile(outputPath)) };
}

async function runConversion(source: Source, outputPath: string, deps: ConvertPartsDeps): Promise<void> {
  const sandbox = deps.sandbox ?? sharedDocumentSandbox();
  const { timeoutMs } = deps.options;
  const outcome = await sandbox.run(
    'convertDocument',
    {
      kind: source.kind,
      inputPath: resolve(source.path),
      outputPath: resolve(outputPath),
      options: deps.options,
    },
    { log: deps.log, limits: { timeMs: timeoutMs + SANDBOX_TIME_MARGIN } },
  );
  if (!outcome.ok) {
    deps.log?.info(
      { file: source.filename, limit: outcome.limit, detail: outcome.detail },
      'conversion stopped',
    );
    if (outcome.limit === 'time') throw refusedAs(source.filename, conversionTimedOut(timeoutMs));
    if (outcome.limit === 'memory') {
      throw new DocumentRefused(source.filename, 'too_large', 'needs too much memory to convert for fax');
    }
    throw new DocumentRefused(source.filename, 'unreadable', 'could not be read or converted');
  }
  if (!outcome.value.ok) {
    deps.log?.info({ file: source.filename, ...outcome.value }, 'document refused by its converter');
    throw new DocumentRefused(source.filename, outcome.value.code, outcome.value.message);
  }
}

/**
 * The sender's PDF trimmed, forms flattened and pages fitted (convert/convertPdf.ts), in the sandbox; one already
 * fit to fax comes back untouched and its own file is used, so the common case costs one parse and no copy. The
 * limits are the PDF inspection's (not documents.convert_timeout, which is about converters): a PDF that stops
 * the sandbox is refused in the same words inspectPdf uses.
 */
async function preparePdf(source: Source, deps: ConvertPartsDeps): Promise<FaxPdf> {
  const outputPath = `${source.path}.pdf`;
  const outcome = await (deps.sandbox ?? sharedDocumentSandbox()).run(
    'preparePdf',
    {
      inputPath: resolve(source.path),
      outputPath: resolve(outputPath),
      // qpdf (an owner-password PDF) must end before the sandbox's own limit, or it would outlive the child.
      options: { paper: deps.options.paper, timeoutMs: QPDF_TIMEOUT, maxPages: FAX_MAX_PAGES },
    },
    { log: deps.log, inputBytes: source.size },
  );
  if (!outcome.ok) {
    deps.log?.info(
      { file: source.filename, limit: outcome.limit, detail: outcome.detail },
      'PDF check stopped',
    );
    // A child lost without a word (the system's OOM killer, an operator) says nothing about the document.
    if (outcome.limit === 'crash' && outcome.lost) {
      throw new DocumentRefused(source.filename, 'unavailable', 'the document checker stopped unexpectedly');
    }
    if (outcome.limit === 'crash')
      throw new DocumentRefused(source.filename, 'unreadable', PROBLEM_UNREADABLE);
    const why = outcome.limit === 'time' ? 'it takes too long to open' : 'it needs too much memory to open';
    throw new DocumentRefused(source.filename, 'too_large', tooComplex(why));
  }
  const prepared = outcome.value;
  if (!prepared.ok) {
    deps.log?.info({ file: source.filename, ...prepared }, 'PDF refused');
    throw new DocumentRefused(source.filename, prepared.code, prepared.message);
  }
  const path = prepared.written ? outputPath : source.path;
  // A PDF faxed as it came is the part as saved: its size and hash were taken then, no need to read it again.
  const digest =
    !prepared.written && source.size !== undefined && source.sha256 !== undefined
      ? { size: source.size, sha256: source.sha256 }
      : await hashFile(path);
  return {
    path,
    filename: source.filename,
    ...(prepared.checked ? { pages: prepared.pages } : {}),
    ...digest,
  };
}

/** The files inside a winmail.dat, each taken as if attached on its own; the RTF body is not among them. */
async function unwrapTnef(found: FoundDocument, deps: ConvertPartsDeps): Promise<FaxPdf[]> {
  const outDir = `${found.path}-tnef`;
  await mkdir(outDir);
  const outcome = await (deps.sandbox ?? sharedDocumentSandbox()).run(
    'unwrapTnef',
    { path: resolve(found.path), outDir: resolve(outDir) },
    { log: deps.log },
  );
  if (!outcome.ok) throw new DocumentRefused(found.filename, 'unreadable', 'could not be read');
  if (!outcome.value.ok) throw new DocumentRefused(found.filename, outcome.value.code, outcome.value.message);
  const inside: Source[] = [];
  for (const file of outcome.value.files) {
    const kind = await sniffDocumentFile(file.path);
    const facts = { contentType: 'application/octet-stream', filename: file.name };
    // readTnef has unwrapped nested winmail.dat files (forwarded Outlook messages) as deep as it goes; one still
    // here is deeper than that, and is left out.
    if (kind.kind === 'tnef' || classifyPart(facts, kind) !== 'document') continue;
    refuseOnPurpose(file.name, kind, deps.options);
    inside.push({ path: file.path, filename: file.name, kind });
  }
  const pdfs: FaxPdf[] = [];
  for (const source of inside) pdfs.push(await toPdf(source, deps));
  return pdfs;
}

/** Size and SHA-256 of the file, read as a stream (a document may be tens of megabytes). */
async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

function refusedAs(filename: string, error: ConvertError): DocumentRefused {
  return new DocumentRefused(filename, error.code, error.message);
}

/** The Office slots refuse with a ConvertError when full; it is named after the file like any refusal. */
function rethrowAs(filename: string): (error: unknown) => never {
  return (error: unknown) => {
    if (error instanceof ConvertError) throw refusedAs(filename, error);
    throw error;
  };
}
