import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

import { copyDocumentToFile } from '../blobs/copyDocument.js';
import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import {
  BACKGROUND_MEMORY_BYTES,
  type DocumentSandbox,
  type SandboxOutcome,
  sharedDocumentSandbox,
} from '../documents/sandbox/documentSandbox.js';
import type { BuildTransmittedInput, BuiltTransmitted } from '../documents/sandbox/wireTasks.js';
import { readCoverInfo } from '../domain/coverInfo.js';
import { findSenderEntry } from '../domain/senders.js';
import { parseSubjectTags, wantsCover } from '../domain/subjectTags.js';
import { newId } from '../lib/ids.js';
import { SECOND } from '../lib/units.js';
import { zonedParts } from '../lib/zonedParts.js';
import type { Logger } from '../log.js';
import type { DocumentRow, JobRow, JobStore, MessageRow } from '../store/jobStore.js';

export interface TransmittedDeps {
  config: Config;
  store: JobStore;
  documents: DocumentStorage;
  sandbox?: DocumentSandbox;
}

/**
 * The stored document could not be turned into the transmitted PDF (the sandbox killed the build, or pdf-lib
 * could not redraw a page). Final for the job: building it again would fail the same way.
 */
export class TransmittedBuildFailed extends Error {
  constructor(detail: string) {
    super(`the header line and cover page could not be added to the document (${detail})`);
    this.name = 'TransmittedBuildFailed';
  }
}

/**
 * Loading the whole document and re-writing every page costs about as much memory as a merge: up to a few times
 * the document's size (50 MB at most), and seconds of a core for hundreds of pages (CPU time: the build runs
 * niced, see documentSandbox.ts).
 */
const BUILD_LIMITS = { memoryBytes: BACKGROUND_MEMORY_BYTES, timeMs: 120 * SECOND };

/**
 * The PDF this job sends: cover page (when asked for), then the document, with the header line on every page.
 * Built once, before the job's first attempt, stored as a document of its own and used for every attempt, so
 * what is stored is exactly what was sent; its date and time are those of the first attempt. A job that already
 * has one (a retry, a restart) gets it back unchanged. The build runs in the document sandbox (wireTasks.ts).
 *
 * Rejects with FaxError('not_found') when the stored document is gone, TransmittedBuildFailed when it cannot be
 * built; any other error (storage unreachable) is passing, and the job is tried again later.
 */
export async function ensureTransmittedDocument(
  deps: TransmittedDeps,
  job: JobRow,
  message: MessageRow,
  document: DocumentRow,
  owner: string,
  now: number,
  log?: Logger,
): Promise<DocumentRow | null> {
  const existing = await deps.store.getTransmittedDocument(job.id);
  if (existing) return existing;
  const id = newId('doc');
  const storageKey = `${id}.pdf`;
  // Under data_dir, on the same file system as local storage, so put() can rename the result into place.
  const work = path.join(deps.config.data_dir, 'tmp', `transmitted-${id}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  let content: Pick<DocumentRow, 'sha256' | 'size' | 'pages'>;
  try {
    const additions = await transmitRequest(deps.config, job, message, now);
    const outputPath = path.join(work, 'transmitted.pdf');
    if (!additions.headerText && !additions.cover) {
      // Nothing to add: the document goes byte for byte as it was stored, copied as a stream, never parsed or
      // held in memory (up to 50 MB).
      await copyDocumentToFile(deps.documents, document.storage_key, outputPath);
      content = { sha256: document.sha256, size: document.size, pages: document.pages };
    } else {
      const input: BuildTransmittedInput = {
        ...additions,
        documentPath: await localCopy(deps.documents, document.storage_key, path.join(work, 'document.pdf')),
        outputPath,
      };
      const outcome = await (deps.sandbox ?? sharedDocumentSandbox()).run('buildTransmitted', input, {
        log,
        limits: BUILD_LIMITS,
        inputBytes: document.size,
        // Nobody waits on this at the end of DATA: senders' documents go first.
        priority: 'later',
      });
      content = builtOrThrow(outcome);
    }
    await deps.documents.put(storageKey, outputPath, 'application/pdf');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const row = {
    id,
    storage_key: storageKey,
    ...content,
    filename: `transmitted-${job.id}.pdf`,
    created_at: now,
  };
  if (await deps.store.recordTransmittedDocument(job.id, owner, row)) return { ...row, deleted_at: null };
  // Another worker linked one first, or we lost the job: ours is not needed.
  await deps.documents.delete(storageKey).catch(() => undefined);
  return deps.store.getTransmittedDocument(job.id);
}

/**
 * What the sandbox said, as the caller needs it: the build, or TransmittedBuildFailed when the document cannot be
 * redrawn (a limit, or pdf-lib failing on it), or a plain Error for passing trouble (the child was lost, it waited
 * for the CPU past the sandbox's wall-clock backstop on a busy machine, the disk was full), after which the job is
 * tried again. `time` is the build's CPU time only (it runs niced): waiting for the CPU never fails a fax.
 */
function builtOrThrow(
  outcome: SandboxOutcome<BuiltTransmitted>,
): Pick<DocumentRow, 'sha256' | 'size' | 'pages'> {
  if (!outcome.ok) {
    if (outcome.limit === 'crash' && outcome.lost) {
      throw new Error(`the document sandbox stopped before the fax was built (${outcome.detail})`);
    }
    if (outcome.limit === 'memory')
      throw new TransmittedBuildFailed(`it needs too much memory: ${outcome.detail}`);
    if (outcome.limit === 'time') throw new TransmittedBuildFailed(`it takes too long: ${outcome.detail}`);
    throw new TransmittedBuildFailed(outcome.detail);
  }
  const built = outcome.value;
  if (!built.ok) {
    if (built.passing) throw new Error(`the fax could not be built: ${built.message}`);
    throw new TransmittedBuildFailed(built.message);
  }
  return { sha256: built.sha256, size: built.size, pages: built.pages };
}

/** The stored document as a file the sandbox can read: its own path on local disk, else a download. */
async function localCopy(documents: DocumentStorage, key: string, target: string): Promise<string> {
  const local = documents.localPath?.(key);
  if (local) {
    // openRead tells a missing document apart (not_found) from a passing failure; the stream is not needed.
    const { stream } = await documents.openRead(key);
    stream.destroy();
    return local;
  }
  await copyDocumentToFile(documents, key, target);
  return target;
}

async function transmitRequest(
  config: Config,
  job: JobRow,
  message: MessageRow,
  now: number,
): Promise<Omit<BuildTransmittedInput, 'documentPath' | 'outputPath'>> {
  const entry = findSenderEntry(config.senders, job.sender);
  const tags = parseSubjectTags(message.subject);
  const fromName = entry?.name ?? message.sender_name ?? config.header.sender_name ?? '';
  const when = zoned(new Date(now), config.timezone);
  const header = {
    date: when.date,
    time: when.time,
    from_name: entry?.name ?? config.header.sender_name ?? message.sender_name ?? '',
    from_number: job.from_number,
    to_number: job.to_number,
  };
  const info = readCoverInfo(message.cover_json);
  const cover = wantsCover(tags, entry?.cover, config.cover.default)
    ? {
        values: {
          to: info.names[job.to_number] ?? '',
          to_number: job.to_number,
          from: fromName,
          from_email: message.sender,
          from_number: job.from_number,
          date: `${when.date} ${when.time}`,
          subject: tags.shown,
          comments: info.comments,
          notice: config.cover.notice ?? '',
        },
        logoPath: config.cover.logo ?? null,
        templatePath: config.cover.template ?? null,
      }
    : null;
  return {
    headerText: config.header.enabled ? config.header.text : null,
    header,
    cover,
  };
}

/** `2025-03-04` and `09:15 EST` in the configured zone: what the header line and the cover show. */
function zoned(date: Date, timeZone: string): { date: string; time: string } {
  const p = zonedParts(date, timeZone);
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute} ${p.zone}` };
}
