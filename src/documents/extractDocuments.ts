import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import type { AttachmentStream, MessageText } from 'mailparser';

import { MB } from '../lib/units.js';
import { readBodyText } from './bodyText.js';
import { classifyPart, isInlineDecoration } from './classifyPart.js';
import type { DocumentKind } from './convert/documentKind.js';
import {
  needsZipTail,
  SNIFF_BYTES,
  sniffDocumentFile,
  sniffDocumentKind,
} from './convert/sniffDocumentKind.js';
import type { ExtractLimits } from './extractLimits.js';
import { type LiftedBodies, MARKER_MAX_BYTES } from './liftBase64Bodies.js';
import { type MessageHeaderFields, readHeaderFields } from './messageHeaders.js';
import { isMessageBody, makeMailParser, toMimeError, tooManyParts } from './mimeLimits.js';
import { measurePart, peekHead, savePart } from './partSniffer.js';
import { hasPdfMagic } from './pdfMagic.js';
import { findSignedContent, readRanges } from './signedContent.js';

/**
 * Turns an incoming email, as it streams in, into the fax document's parts (docs/behaviour.md §3 "The document"): every
 * MIME leaf that is not the message's body text is written to `workDir`, recognised by its bytes (a PDF, a photo,
 * a scan, an Office file, a winmail.dat, an archive…) whatever it is called or typed as, and kept in order when it
 * is a document (classifyPart.ts); everything else is measured, listed and dropped. Forwarded messages attached as
 * `message/rfc822` are opened and searched the same way, up to `maxDepth` levels.
 *
 * Nothing is held in memory but a part's first 64 KB: text bodies are read through and dropped. The caller owns
 * `workDir` and the files listed in `documents`; on any failure those files are removed before the promise rejects.
 */
export interface FoundDocument {
  path: string;
  /** As the sender named it, or `document-N.pdf` / `attachment-N` when the part had no name. */
  filename: string;
  /** As declared by the sender; only for logs and replies, never for deciding what the part is. */
  contentType: string;
  /** What the bytes are. */
  kind: DocumentKind;
  size: number;
  sha256: string;
  /** IMAP-style part number; parts of a forwarded message continue its number (`2.1` is part 1 inside part 2). */
  partId: string;
}

export interface OtherPart {
  filename: string;
  contentType: string;
  size: number;
}

export interface ExtractedMessage extends MessageHeaderFields {
  /** In order of appearance; identical documents (same sha256) are listed once. */
  documents: FoundDocument[];
  /** Attachments and inline images that are not documents, for the "no document" reply. */
  others: OtherPart[];
  /** The message's own plain-text body (never a forwarded message's), for a cover page's comments. */
  text: string | null;
}

export type { ExtractLimits } from './extractLimits.js';

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = { maxDepth: 3, maxParts: 100, maxHeaderSize: 1 * MB };

/** The state of one extractDocuments call, shared by the message and the messages it forwards. */
interface Extraction {
  workDir: string;
  limits: ExtractLimits;
  documents: FoundDocument[];
  others: OtherPart[];
  seen: Set<string>;
  attachments: number;
  /** The start of the message's own body, for a cover page's comments. */
  text: string | null;
  /** Whether `text` came from a text/plain body (an HTML one is replaced by a plain one found later). */
  textIsPlain: boolean;
  /** Bodies decoded ahead of the parser (liftBase64Bodies.ts), given back where their markers are. */
  lifted: LiftedBodies | undefined;
}

export async function extractDocuments(
  input: NodeJS.ReadableStream,
  workDir: string,
  limits: Partial<ExtractLimits> = {},
  signal?: AbortSignal,
  lifted?: LiftedBodies,
): Promise<ExtractedMessage> {
  const run: Extraction = {
    workDir,
    limits: { ...DEFAULT_EXTRACT_LIMITS, ...limits },
    documents: [],
    others: [],
    seen: new Set(),
    attachments: 0,
    text: null,
    textIsPlain: false,
    lifted,
  };
  // Heard from the first moment: an error while the work folder is made must not go uncaught. parseMessage then
  // finds the stream destroyed and takes its `errored` as the reason.
  const heardEarly = (): void => undefined;
  input.on('error', heardEarly);
  try {
    await mkdir(workDir, { recursive: true });
    const headers = await parseMessage({
      input,
      ownsInput: false,
      run,
      depth: 0,
      partPrefix: null,
      signal,
      ownBody: true,
    });
    return { ...headers, documents: run.documents, others: run.others, text: run.text };
  } catch (error) {
    await Promise.all(run.documents.map((found) => rm(found.path, { force: true })));
    throw error;
  } finally {
    input.removeListener('error', heardEarly);
  }
}

interface ParseTask {
  input: NodeJS.ReadableStream;
  /** Inputs we made ourselves (a forwarded message's content) are destroyed on failure; the caller's are drained. */
  ownsInput: boolean;
  run: Extraction;
  depth: number;
  partPrefix: string | null;
  signal: AbortSignal | undefined;
  /** True for the message itself and for the content inside its S/MIME signature; false inside a forward. */
  ownBody: boolean;
}

/**
 * Parses one message with mailparser's streaming parser (never simpleParser, which buffers every attachment;
 * docs/dependencies.md, mailparser). Parts are handled one at a time, in order: mailparser waits for each
 * `release()`.
 */
async function parseMessage(task: ParseTask): Promise<MessageHeaderFields> {
  const { input, run, signal } = task;
  // One controller stops this level for any reason: the caller's signal, a parser error, an input error.
  const stop = new AbortController();
  const halt = (reason: unknown): void => {
    if (!stop.signal.aborted) stop.abort(reason);
  };
  const onOuterAbort = (): void => halt(signal?.reason);
  const onInputError = (error: Error): void => halt(error);
  // A stream destroyed before its end (a client gone mid-DATA) may say so with a close and no error.
  const source = input as Readable;
  const onInputClose = (): void => {
    if (!source.readableEnded) halt(source.errored ?? new Error('the message did not arrive in full'));
  };
  // Listening before the first await: an error the input emits while the parser loads must not go uncaught.
  input.on('error', onInputError);
  input.on('close', onInputClose);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (signal?.aborted) onOuterAbort();
  // Events that came before these listeners are not repeated: a stream that already stopped would never feed the parser.
  if (source.destroyed) onInputClose();

  let parser: Awaited<ReturnType<typeof makeMailParser>> | undefined;
  let failed = true;
  try {
    const started = await makeMailParser(run.limits);
    parser = started;
    if (stop.signal.aborted) throw stop.signal.reason;
    stop.signal.addEventListener('abort', () => started.destroy(), { once: true });
    // Stays attached for the parser's lifetime: a late error must never become an uncaught exception.
    started.on('error', (error: Error) => halt(toMimeError(error, run.limits)));
    input.pipe(started);
    for await (const item of started as AsyncIterable<AttachmentStream | MessageText>) {
      if (item.type === 'attachment') await handleAttachment(item, task, stop.signal);
      // Bodies arrive as part streams (mimeLimits.ts); a text item, if mailparser still sends one, only fills a gap.
      else if (item.type === 'text' && task.ownBody && run.text === null && item.text) run.text = item.text;
    }
    if (stop.signal.aborted) throw stop.signal.reason;
    failed = false;
    return await readHeaderFields(started.headers, started.headerLines);
  } catch (error) {
    throw stop.signal.aborted ? stop.signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
    input.removeListener('error', onInputError);
    input.removeListener('close', onInputClose);
    if (parser) input.unpipe(parser);
    if (failed) {
      parser?.destroy();
      // A failed parse must not cost the SMTP session: the caller's stream is drained, not destroyed.
      if (task.ownsInput) (input as Readable).destroy();
      else input.resume();
    }
  }
}

async function handleAttachment(
  received: AttachmentStream,
  task: ParseTask,
  signal: AbortSignal,
): Promise<void> {
  const { run } = task;
  let part = received;
  // Abort destroys the content stream, which ends whatever is reading it (file write, nested parse, measuring).
  const onAbort = (): void => {
    const reason = signal.reason instanceof Error ? signal.reason : undefined;
    received.content.destroy(reason);
    part.content.destroy(reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  // Whoever reads the content sees its errors; this keeps one that arrives between two reads from being uncaught.
  received.content.on('error', ignoreError);
  try {
    // Lifted bodies are the message's own (liftBase64Bodies.ts does not look inside forwards or signatures); once
    // every one is given back, the parts after them are read as they come, not looked at first.
    if (run.lifted?.count && task.depth === 0) part = await restoreLiftedBody(received, run.lifted);
    // The message's text is never faxed: read through and dropped, except the start of the message's own first
    // body, which a cover page shows as comments (plain text preferred over HTML).
    if (isMessageBody(part)) return await readBody(part, task);
    run.attachments += 1;
    if (run.attachments > run.limits.maxParts) throw tooManyParts(run.limits);
    if (signal.aborted) throw signal.reason;
    // As much as sniffDocumentFile reads, so that what the part is can be told without reading its file again.
    const { head, content } = await peekHead(part.content, SNIFF_BYTES);
    const partId = task.partPrefix ? `${task.partPrefix}.${part.partId ?? '1'}` : (part.partId ?? '1');
    if (isAttachedMessage(part) && !hasPdfMagic(head) && task.depth < run.limits.maxDepth) {
      return await readAttachedMessage(part, content, partId, task, signal);
    }
    const sniffed = sniffDocumentKind(head.subarray(0, SNIFF_BYTES));
    const kind = sniffed.kind;
    if (kind === 'smime-signed' && task.depth < run.limits.maxDepth) {
      return await readSignedMessage(part, content, partId, task, signal);
    }
    if (kind === 'image' && isInlineDecoration(part)) {
      return listOther(part, (await measurePart(content)).size, run);
    }
    await keepPart(part, { head, sniffed }, content, partId, run, signal);
  } catch (error) {
    // Unread content would otherwise be pumped into a buffer nobody drains once released.
    received.content.destroy();
    part.content.destroy();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Mandatory: mailparser stalls for good after an attachment that is never released (docs/dependencies.md,
    // mailparser).
    received.release?.();
  }
}

/**
 * The part with its content as the sender sent it: a lifted body's marker is swapped for the decoded body; any
 * other content is read on from where the look at its start stopped.
 */
async function restoreLiftedBody(part: AttachmentStream, lifted: LiftedBodies): Promise<AttachmentStream> {
  const { head, content } = await peekHead(part.content, MARKER_MAX_BYTES + 1);
  const body = lifted.take(head);
  const restored = body ? Readable.from([body]) : Readable.from(content, { objectMode: false });
  restored.on('error', ignoreError);
  return { ...part, content: restored as AttachmentStream['content'] };
}

async function readBody(part: AttachmentStream, task: ParseTask): Promise<void> {
  const type = part.contentType.toLowerCase();
  const wanted =
    task.ownBody &&
    (type === 'text/plain' ? !task.run.textIsPlain : type === 'text/html' && task.run.text === null);
  if (!wanted) return void (await measurePart(part.content));
  task.run.text = await readBodyText(part);
  task.run.textIsPlain = type === 'text/plain';
}

/** Saves the part, then keeps it as a document or lists it, by what its bytes are and how it was attached. */
async function keepPart(
  part: AttachmentStream,
  { head, sniffed }: { head: Buffer; sniffed: DocumentKind },
  content: AsyncIterable<Buffer>,
  partId: string,
  run: Extraction,
  signal: AbortSignal,
): Promise<void> {
  // Numbered by arrival, never by the sender's file name, which is untrusted text.
  const path = join(run.workDir, `part-${run.attachments}`);
  const { size, sha256 } = await savePart(content, path, signal);
  // The head is the file's first SNIFF_BYTES (or all of it): only a ZIP's kind needs more, its central directory.
  const kind = needsZipTail(head, size) ? await sniffDocumentFile(path) : sniffed;
  if (classifyPart(part, kind) !== 'document') {
    await rm(path, { force: true });
    return listOther(part, size, run);
  }
  if (run.seen.has(sha256)) {
    // The same document attached twice (or again inside a forward) is one document.
    await rm(path, { force: true });
    return;
  }
  run.seen.add(sha256);
  const unnamed =
    kind.kind === 'pdf' ? `document-${run.documents.length + 1}.pdf` : `attachment-${run.attachments}`;
  run.documents.push({
    path,
    filename: part.filename ?? unnamed,
    contentType: part.contentType,
    kind,
    size,
    sha256,
    partId,
  });
}

function listOther(part: AttachmentStream, size: number, run: Extraction): void {
  run.others.push({
    filename: part.filename ?? `attachment-${run.others.length + 1}`,
    contentType: part.contentType,
    size,
  });
}

/**
 * A forward-as-attachment: mailparser leaves `message/rfc822` with disposition attachment (or none) unopened, so
 * its content is parsed again. Its headers are ignored; its documents and other parts join this message's, in order.
 */
async function readAttachedMessage(
  part: AttachmentStream,
  content: AsyncIterable<Buffer>,
  partId: string,
  task: ParseTask,
  signal: AbortSignal,
): Promise<void> {
  let size = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of content) {
      size += chunk.length;
      yield chunk;
    }
  }
  const input = Readable.from(counted(), { objectMode: false });
  // A forward with nothing in it is still worth naming in a "no document" reply.
  if (!(await parseNested(input, partId, task, signal, false))) {
    task.run.others.push({
      filename: part.filename ?? 'forwarded message',
      contentType: part.contentType,
      size,
    });
  }
}

/**
 * A message inside this one (a forward, the content of a signature), parsed into the same extraction; true when
 * it added any part. The nested parse stops with this level (its `signal`), so a failure anywhere unwinds every
 * level, and it counts towards `maxDepth`.
 */
async function parseNested(
  input: Readable,
  partId: string,
  task: ParseTask,
  signal: AbortSignal,
  ownBody: boolean,
): Promise<boolean> {
  const { run } = task;
  const before = run.documents.length + run.others.length;
  await parseMessage({
    input,
    ownsInput: true,
    run,
    depth: task.depth + 1,
    partPrefix: partId,
    signal,
    ownBody,
  });
  return run.documents.length + run.others.length > before;
}

/**
 * An opaque-signed S/MIME message (`smime.p7m`, signed-data; signedContent.ts): the message the sender wrote is
 * inside the signature, and is read like the message itself (its body is this message's body). A detached
 * signature, or a blob that is not SignedData after all, is listed like any other part. Signed inside signed
 * counts towards `maxDepth` like a forward does.
 */
async function readSignedMessage(
  part: AttachmentStream,
  content: AsyncIterable<Buffer>,
  partId: string,
  task: ParseTask,
  signal: AbortSignal,
): Promise<void> {
  const { run } = task;
  const path = join(run.workDir, `signed-${run.attachments}`);
  try {
    const { size } = await savePart(content, path, signal);
    const ranges = await findSignedContent(path);
    if (!ranges) return listOther(part, size, run);
    const input = Readable.from(readRanges(path, ranges), { objectMode: false });
    if (!(await parseNested(input, partId, task, signal, task.ownBody))) listOther(part, size, run);
  } finally {
    await rm(path, { force: true });
  }
}

function ignoreError(): void {}

function isAttachedMessage(part: AttachmentStream): boolean {
  const type = part.contentType.toLowerCase();
  return type === 'message/rfc822' || type === 'message/global';
}
