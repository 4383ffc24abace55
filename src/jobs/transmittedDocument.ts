import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import type { TransmitRequest } from '../documents/wire/buildTransmittedPdf.js';
import { readCoverInfo } from '../domain/coverInfo.js';
import { findSenderEntry } from '../domain/senders.js';
import { parseSubjectTags, wantsCover } from '../domain/subjectTags.js';
import { newId } from '../lib/ids.js';
import { zonedParts } from '../lib/zonedParts.js';
import type { DocumentRow, JobRow, JobStore, MessageRow } from '../store/jobStore.js';

export interface TransmittedDeps {
  config: Config;
  store: JobStore;
  documents: DocumentStorage;
}

/**
 * The PDF this job sends: cover page (when asked for), then the document, with the header line on every page.
 * Built once, before the job's first attempt, stored as a document of its own and used for every attempt, so
 * what is stored is exactly what was sent; its date and time are those of the first attempt. A job that already
 * has one (a retry, a restart) gets it back unchanged.
 */
export async function ensureTransmittedDocument(
  deps: TransmittedDeps,
  job: JobRow,
  message: MessageRow,
  document: DocumentRow,
  owner: string,
  now: number,
): Promise<DocumentRow | null> {
  const existing = await deps.store.getTransmittedDocument(job.id);
  if (existing) return existing;
  const id = newId('doc');
  const storageKey = `${id}.pdf`;
  // put() takes a file (it moves or uploads it). Under data_dir, on the same file system as local storage, so
  // put() can rename it into place.
  const file = path.join(deps.config.data_dir, 'tmp', `transmitted-${id}.pdf`);
  const additions = await transmitAdditions(deps.config, job, message, now);
  let content: Pick<DocumentRow, 'sha256' | 'size' | 'pages'>;
  try {
    if (!additions.headerText && !additions.cover) {
      // Nothing to add: the document goes byte for byte as it was stored, copied as a stream, never parsed or
      // held in memory (up to 50 MB).
      await pipeline((await deps.documents.openRead(document.storage_key)).stream, createWriteStream(file));
      content = { sha256: document.sha256, size: document.size, pages: document.pages };
    } else {
      const original = await readAll(deps.documents, document.storage_key, document.size);
      // pdf-lib and the fonts are loaded by the first fax that needs them, not by every daemon at start.
      const { writeTransmittedPdf } = await import('../documents/wire/buildTransmittedPdf.js');
      // Written to the file as it is serialized: the output is never a second 50 MB buffer.
      content = await writeTransmittedPdf({ ...additions, document: original }, file);
    }
    await deps.documents.put(storageKey, file, 'application/pdf');
  } finally {
    await rm(file, { force: true });
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

/** Everything the transmitted PDF adds to the document: the header line and the cover page, each when wanted. */
async function transmitAdditions(
  config: Config,
  job: JobRow,
  message: MessageRow,
  now: number,
): Promise<Omit<TransmitRequest, 'document'>> {
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
        logo: config.cover.logo ? await readFile(config.cover.logo) : null,
        template: config.cover.template ? await readFile(config.cover.template) : null,
      }
    : null;
  return {
    headerText: config.header.enabled ? config.header.text : null,
    header,
    cover,
  };
}

/**
 * The stored document in one buffer of its recorded size, filled as it streams in: collecting chunks and joining
 * them would hold the document twice for a moment (100 MB for a 50 MB PDF). A size that turns out different
 * (never expected) falls back to joining.
 */
async function readAll(documents: DocumentStorage, key: string, size: number): Promise<Uint8Array> {
  const { stream } = await documents.openRead(key);
  const whole = Buffer.allocUnsafe(size);
  const extra: Buffer[] = [];
  let filled = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (extra.length === 0 && filled + chunk.length <= size) filled += chunk.copy(whole, filled);
    else extra.push(chunk);
  }
  if (extra.length === 0 && filled === size) return whole;
  return Buffer.concat([whole.subarray(0, filled), ...extra]);
}

/** `2025-03-04` and `09:15 EST` in the configured zone: what the header line and the cover show. */
function zoned(date: Date, timeZone: string): { date: string; time: string } {
  const p = zonedParts(date, timeZone);
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute} ${p.zone}` };
}
