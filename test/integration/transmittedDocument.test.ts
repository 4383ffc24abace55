import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeLocalStorage } from '../../src/blobs/localStorage.js';
import { FaxError } from '../../src/errors.js';
import { ensureTransmittedDocument, TransmittedBuildFailed } from '../../src/jobs/transmittedDocument.js';
import { makeUrlSigner } from '../../src/lib/urlSigner.js';
import type { DocumentRow, JobRow, MessageRow } from '../../src/store/jobStore.js';
import { makePdf } from '../helpers/pdfFixtures.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

/*
 * The transmitted PDF (cover page, header lines) is built in the document sandbox from the stored document. What
 * goes wrong there must end the job with a reason that says what happened, and leave no work files behind: a
 * document that cannot be redrawn is final (`document_not_prepared`), a document that is gone is
 * `document_missing`. The rows are those of a real accepted message; only the document row is pointed elsewhere.
 */
describe('building the transmitted PDF', () => {
  let env: TestDaemon;
  let job: JobRow;
  let message: MessageRow;
  let document: DocumentRow;
  const storageRoot = () => path.join(env.dataDir, 'transmit-test-documents');

  beforeAll(async () => {
    env = await startTestDaemon({ yaml: 'cover:\n  default: true\n' });
    const sent = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15552300001@fax.localhost',
      text: 'Fax',
      attachments: [{ filename: 'a.pdf', content: await makePdf(1), contentType: 'application/pdf' }],
    });
    expect(sent.code).toBe(250);
    const jobId = /Queued (\S+)/.exec(sent.response)![1]!;
    // Delivered first: the daemon's own build of this job is over before the tests look for work files.
    job = await waitFor(
      async () => {
        const row = await env.daemon.store.getJob(jobId);
        return row?.status === 'delivered' ? row : null;
      },
      40_000,
      'job delivered',
    );
    message = (await env.daemon.store.getMessage(job.message_row_id))!;
    document = (await env.daemon.store.getDocument(message.document_id))!;
  });
  afterAll(async () => {
    await env.stop();
  });

  function deps() {
    const documents = makeLocalStorage({
      root: storageRoot(),
      publicUrl: () => 'http://127.0.0.1:1',
      signer: makeUrlSigner('test-secret-test-secret-test-secret'),
    });
    return { config: env.daemon.config, store: env.daemon.store, documents };
  }
  // A job id nobody has: nothing is linked to it, so each call builds afresh.
  const unbuiltJob = (suffix: string): JobRow => ({ ...job, id: `${job.id.slice(0, 20)}${suffix}` });
  const leftovers = async () =>
    (await readdir(path.join(env.dataDir, 'tmp'))).filter((name) => name.startsWith('transmitted-'));

  it('a stored document that cannot be redrawn fails for good, and leaves no work files', async () => {
    const { documents, ...rest } = deps();
    const source = path.join(env.dataDir, 'not-a-pdf.bin');
    await writeFile(source, '%PDF-1.7\nthis is not a PDF body at all\n%%EOF\n');
    await documents.put('doc_broken.pdf', source, 'application/pdf');
    const broken = { ...document, storage_key: 'doc_broken.pdf' };
    const attempt = ensureTransmittedDocument(
      { ...rest, documents },
      unbuiltJob('broken'),
      message,
      broken,
      'test-owner',
      Date.now(),
    );
    await expect(attempt).rejects.toBeInstanceOf(TransmittedBuildFailed);
    await expect(attempt).rejects.toThrow(/header line and cover page could not be added/);
    expect(await leftovers()).toEqual([]);
  });

  it('a document that is no longer stored is told apart from a passing storage failure', async () => {
    const gone = { ...document, storage_key: 'doc_gone.pdf' };
    const attempt = ensureTransmittedDocument(
      deps(),
      unbuiltJob('gone'),
      message,
      gone,
      'test-owner',
      Date.now(),
    );
    await expect(attempt).rejects.toBeInstanceOf(FaxError);
    await expect(attempt).rejects.toMatchObject({ code: 'not_found' });
    expect(await leftovers()).toEqual([]);
  });

  it('a good document gets its cover page in the sandbox and is stored with its true page count', async () => {
    const transmitted = await env.daemon.store.getTransmittedDocument(job.id);
    // One page of document and the cover page.
    expect(transmitted?.pages).toBe(2);
    expect(await leftovers()).toEqual([]);
  });
});
