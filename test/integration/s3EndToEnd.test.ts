import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makePdf } from '../helpers/pdfFixtures.js';
import { type LocalS3, startLocalS3 } from '../helpers/s3rver.js';
import { sendMail, startTestDaemon, type TestDaemon, waitFor } from '../helpers/testDaemon.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('email to fax with documents in S3 (s3rver)', () => {
  let s3: LocalS3;
  let env: TestDaemon;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    s3 = await startLocalS3('faxbridge-e2e');
    // startTestDaemon passes `env` to config loading only; the AWS SDK's credential chain reads process.env.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    env = await startTestDaemon({
      yaml: [
        // Without a header line the stored document is what is faxed, byte for byte.
        'header:',
        '  enabled: false',
        'storage:',
        '  driver: s3',
        '  url_ttl: 1h',
        '  s3:',
        `    bucket: ${s3.bucket}`,
        '    prefix: faxes',
        `    endpoint: ${s3.endpoint}`,
        '    force_path_style: true',
        '    region: us-east-1',
        '',
      ].join('\n'),
    });
  });
  afterAll(async () => {
    await env?.stop();
    await s3?.close();
    process.env = savedEnv;
  });

  it('stores the PDF in the bucket and the simulator fetches it through the presigned URL', async () => {
    const pdf = await makePdf(2, { label: 's3' });
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15551230001@fax.localhost',
      subject: 'Through S3',
      text: 'Please fax this',
      attachments: [{ filename: 'contract.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const jobId = /Queued (\S+) \+15551230001$/.exec(result.response)?.[1];
    expect(jobId).toBeTruthy();

    const fax = await waitFor(
      () => env.simulator.faxes().find((f) => f.to === '+15551230001' && f.status === 'delivered'),
      15_000,
      'the fax delivered',
    );
    // Telnyx was given a presigned S3 URL (not our /media/ route), and fetched the exact bytes with a 200.
    expect(fax.mediaUrl!.startsWith(`${s3.endpoint}/${s3.bucket}/faxes/doc`)).toBe(true);
    expect(new URL(fax.mediaUrl!).searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(fax.media?.httpStatus).toBe(200);
    expect(fax.media?.sha256).toBe(sha256(pdf));
    expect(fax.media?.bytes).toBe(pdf.length);
    expect(fax.documentPages).toBe(2);

    const job = await waitFor(async () => {
      const row = await env.daemon.store.getJob(jobId!);
      return row?.status === 'delivered' ? row : null;
    });
    expect(job.finished_at).not.toBeNull();
    // Nothing was kept on local disk: the bucket is the only copy.
    const localDocs = path.join(env.dataDir, 'documents');
    expect(existsSync(localDocs) ? readdirSync(localDocs) : []).toEqual([]);
  });

  it('attaches the document fetched from S3 to a failure receipt, byte for byte', async () => {
    const pdf = await makePdf(1, { label: 'unallocated' });
    const result = await sendMail(env.smtpPort, {
      from: 'alice@example.com',
      to: '+15555550103@fax.localhost',
      subject: 'Will fail',
      text: 'Please fax this',
      attachments: [{ filename: 'letter.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect(result.code).toBe(250);
    const jobId = /Queued (\S+) \+15555550103$/.exec(result.response)![1]!;

    const outboxDir = path.join(env.dataDir, 'outbox');
    const eml = await waitFor(
      () =>
        existsSync(outboxDir)
          ? readdirSync(outboxDir).find((name) => name.startsWith(`receipt-failed-${jobId}`))
          : undefined,
      15_000,
      'the failure receipt',
    );
    const receipt = await simpleParser(readFileSync(path.join(outboxDir, eml)));
    // Small enough to attach: the worker copies it from S3 for the mail and removes the copy afterwards.
    const attached = receipt.attachments.filter((a) => a.contentType === 'application/pdf');
    expect(attached).toHaveLength(1);
    expect(sha256(attached[0]!.content)).toBe(sha256(pdf));
    // The copy is removed once the mail is written, so just after the .eml appears it may still be there.
    const copies = path.join(env.dataDir, 'tmp', 'attachments');
    await waitFor(
      () => !existsSync(copies) || readdirSync(copies).length === 0,
      15_000,
      'the attachment copy removed',
    );
  });
});
