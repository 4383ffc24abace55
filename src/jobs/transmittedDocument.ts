import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import { buildTransmittedPdf, type TransmitRequest } from '../documents/wire/buildTransmittedPdf.js';
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
  const original = await readAll(deps.documents, document.storage_key);
  const built = await buildTransmittedPdf(await transmitRequest(deps.config, job, message, original, now));
  const id = newId('doc');
  const storageKey = `${id}.pdf`;
  // put() takes a file (it moves or uploads it); the bytes are at most a few MB more than the document's.
  // Under data_dir, on the same file system as local storage, so put() can rename it into place.
  const file = path.join(deps.config.data_dir, 'tmp', `transmitted-${id}.pdf`);
  await writeFile(file, built.pdf);
  try {
    await deps.documents.put(storageKey, file, 'application/pdf');
  } finally {
    await rm(file, { force: true });
  }
  const row = {
    id,
    storage_key: storageKey,
    sha256: createHash('sha256').update(built.pdf).digest('hex'),
    size: built.pdf.length,
    pages: built.pages,
    filename: `transmitted-${job.id}.pdf`,
    created_at: now,
  };
  if (await deps.store.recordTransmittedDocument(job.id, owner, row)) return { ...row, deleted_at: null };
  // Another worker linked one first, or we lost the job: ours is not needed.
  await deps.documents.delete(storageKey).catch(() => undefined);
  return deps.store.getTransmittedDocument(job.id);
}

async function transmitRequest(
  config: Config,
  job: JobRow,
  message: MessageRow,
  original: Uint8Array,
  now: number,
): Promise<TransmitRequest> {
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
    document: original,
    headerText: config.header.enabled ? config.header.text : null,
    header,
    cover,
  };
}

async function readAll(documents: DocumentStorage, key: string): Promise<Uint8Array> {
  const { stream } = await documents.openRead(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `2025-03-04` and `09:15 EST` in the configured zone: what the header line and the cover show. */
function zoned(date: Date, timeZone: string): { date: string; time: string } {
  const p = zonedParts(date, timeZone);
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute} ${p.zone}` };
}
