import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import type { DocumentStorage } from '../blobs/documentStorage.js';
import type { Config } from '../config/loadConfig.js';
import { inspectPdf } from '../documents/inspectPdf.js';
import { checkFaxNumber, loadPhoneNumbers } from '../domain/phoneNumber.js';
import { findSender } from '../domain/senders.js';
import { newId } from '../lib/ids.js';
import type { JobRow, JobStore } from '../store/jobStore.js';
import { OperatorRefusal } from './operatorActions.js';

export interface QueuePdfInput {
  /** Lower-cased address the fax goes out for: its `senders` entry picks the from_number; receipts go to it. */
  sender: string;
  /** Numbers as typed (national numbers of smtp.default_country are fine). */
  targets: readonly string[];
  /** A PDF in data_dir that storage may move away. */
  file: string;
  /**
   * What the caller already learnt of `file` while assembling it (documents/assembleFaxPdf.ts): it is then not
   * opened again. Without it the PDF is checked and hashed here (`faxbridge send`).
   */
  checked?: { pages: number; size: number; sha256: string };
  filename: string;
  /** Subject of the generated message (the console's cover flag travels in it). */
  subject: string | null;
  /** `cli`, `console`: where the fax was queued from, for the logs and the job page. */
  origin: string;
}

/**
 * The intake of a PDF handed over without an email (`faxbridge send`, the console's send page): the same
 * checks as SMTP intake (the sender's `senders` entry, number policy, the PDF), the document goes to the same
 * storage, and the jobs are stored exactly as an accepted message's, so workers and receipts treat them alike.
 * Refusals are OperatorRefusal with the reason in plain words.
 */
export async function queuePdf(
  deps: { config: Config; store: JobStore; documents: DocumentStorage; now: () => number },
  input: QueuePdfInput,
): Promise<JobRow[]> {
  const { config, store, documents } = deps;
  await loadPhoneNumbers();
  const rule = findSender(config.senders, input.sender, config.sandbox);
  if (!rule)
    throw new OperatorRefusal(`${input.sender} is not allowed to send faxes (no matching senders entry)`);
  const policy = {
    defaultCountry: config.smtp.default_country,
    allowedCountries: config.smtp.allowed_countries,
    blockedPrefixes: config.smtp.blocked_prefixes,
  };
  const numbers: string[] = [];
  for (const target of input.targets) {
    const verdict = checkFaxNumber(target, policy);
    if (!verdict.ok) throw new OperatorRefusal(verdict.reason);
    if (!numbers.includes(verdict.e164)) numbers.push(verdict.e164);
  }
  if (numbers.length === 0) throw new OperatorRefusal('name at least one fax number');

  const facts = input.checked ?? (await checkAndHash(input.file, input.filename));
  const documentId = newId('doc');
  const storageKey = `${documentId}.pdf`;
  await documents.put(storageKey, input.file, 'application/pdf');
  const now = deps.now();
  const messageId = newId('msg');
  return store.acceptMessage(
    {
      document: {
        id: documentId,
        storage_key: storageKey,
        sha256: facts.sha256,
        size: facts.size,
        pages: facts.pages,
        filename: input.filename,
        created_at: now,
      },
      message: {
        id: messageId,
        sender: input.sender,
        sender_name: null,
        envelope_from: null,
        message_id: null,
        subject: input.subject,
        references_json: '[]',
        document_id: documentId,
        session_id: input.origin,
        received_at: now,
      },
      jobs: numbers.map((to) => ({ id: newId('fx'), to_number: to, from_number: rule.fromNumber })),
      max_attempts: config.retry.max_attempts,
      accepted_receipt: config.receipts.on_accepted,
    },
    now,
  );
}

async function checkAndHash(
  file: string,
  filename: string,
): Promise<{ pages: number; size: number; sha256: string }> {
  const inspected = await inspectPdf(file);
  if (!inspected.ok) throw new OperatorRefusal(`${filename} ${inspected.problem}`);
  const bytes = await readFile(file);
  return {
    pages: inspected.pages,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
