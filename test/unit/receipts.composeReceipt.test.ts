import { describe, expect, it } from 'vitest';

import { INTERNAL_FAILURE_REASONS } from '../../src/domain/failureReasons.js';
import { composeReceipt, type ReceiptInput } from '../../src/mail/composeReceipt.js';

const ACCEPTED_AT = new Date('2026-11-27T14:03:05Z');
const FINISHED_AT = new Date('2026-11-27T14:09:40Z');

function input(overrides: Partial<ReceiptInput> = {}): ReceiptInput {
  return {
    kind: 'delivered',
    jobId: 'job_AbC12345',
    to: '+15551234567',
    sender: { address: 'alice@example.com', name: 'Alice Smith' },
    pages: 5,
    pagesSent: 5,
    durationSecs: 72,
    acceptedAt: ACCEPTED_AT,
    finishedAt: FINISHED_AT,
    attempts: [
      {
        attempt: 1,
        startedAt: new Date('2026-11-27T14:03:10Z'),
        endedAt: new Date('2026-11-27T14:03:40Z'),
        outcome: 'failed',
        failureReason: 'user_busy',
      },
      {
        attempt: 2,
        startedAt: new Date('2026-11-27T14:06:40Z'),
        endedAt: FINISHED_AT,
        outcome: 'delivered',
        pages: 5,
        durationSecs: 72,
      },
    ],
    original: {
      messageId: '<orig-1@mail.example.com>',
      references: ['<thread-0@x>'],
      subject: 'Signed contract',
    },
    timezone: 'America/New_York',
    from: 'Fax Gateway <fax@fax.example.com>',
    domain: 'fax.example.com',
    ...overrides,
  };
}

describe('composeReceipt subjects', () => {
  it.each([
    [{ kind: 'accepted' as const }, 'Fax to +15551234567 accepted (5 pages)'],
    [{ kind: 'delivered' as const }, 'Fax to +15551234567 delivered (5 pages)'],
    [{ kind: 'accepted' as const, pages: 1 }, 'Fax to +15551234567 accepted (1 page)'],
    [{ kind: 'delivered' as const, pages: 1, pagesSent: 1 }, 'Fax to +15551234567 delivered (1 page)'],
    [{ kind: 'delivered' as const, pagesSent: null }, 'Fax to +15551234567 delivered (5 pages)'],
    [
      { kind: 'failed' as const, failureReason: 'user_busy' },
      'Fax to +15551234567 failed: the line was busy',
    ],
    [
      { kind: 'failed' as const, failureReason: 'receiver_unallocated_number' },
      'Fax to +15551234567 failed: the number does not exist',
    ],
  ])('%j → %s', (overrides, subject) => {
    expect(composeReceipt(input(overrides)).subject).toBe(subject);
  });

  it('names an unknown reason by its code', () => {
    const mail = composeReceipt(input({ kind: 'failed', failureReason: 'brand_new_reason' }));
    expect(mail.subject).toBe('Fax to +15551234567 failed: fax service error brand_new_reason');
  });

  it('uses a configured template', () => {
    const mail = composeReceipt(input({ subjects: { delivered: '[fax] {to}: {pages} ok ({job})' } }));
    expect(mail.subject).toBe('[fax] +15551234567: 5 pages ok (job_AbC12345)');
  });
});

describe('composeReceipt headers', () => {
  it('threads to the original and marks itself automatic', () => {
    const mail = composeReceipt(input());
    expect(mail.inReplyTo).toBe('<orig-1@mail.example.com>');
    expect(mail.references).toEqual(['<thread-0@x>', '<orig-1@mail.example.com>']);
    expect(mail.headers['Auto-Submitted']).toBe('auto-replied');
    expect(mail.envelopeFrom).toBe('fax@fax.example.com');
    expect(mail.from).toBe('Fax Gateway <fax@fax.example.com>');
    expect(mail.to).toEqual(['"Alice Smith" <alice@example.com>']);
  });

  it('brackets bare ids and leaves threading out when the original had no Message-ID', () => {
    const bare = composeReceipt(input({ original: { messageId: 'abc@x', references: [], subject: null } }));
    expect(bare.inReplyTo).toBe('<abc@x>');
    expect(bare.references).toEqual(['<abc@x>']);
    const none = composeReceipt(input({ original: { messageId: null, references: [], subject: null } }));
    expect(none.inReplyTo).toBeUndefined();
    expect(none.references).toBeUndefined();
  });

  it('has a deterministic Message-ID per kind and job', () => {
    const first = composeReceipt(input({ kind: 'failed', failureReason: 'user_busy' }));
    const again = composeReceipt(input({ kind: 'failed', failureReason: 'user_busy' }));
    expect(first.messageId).toBe('<receipt-failed-job_AbC12345@fax.example.com>');
    expect(again.messageId).toBe(first.messageId);
    expect(composeReceipt(input({ kind: 'accepted' })).messageId).toBe(
      '<receipt-accepted-job_AbC12345@fax.example.com>',
    );
  });

  it('takes the Message-ID domain from mail.from when none is configured', () => {
    expect(composeReceipt(input({ domain: '' })).messageId).toBe(
      '<receipt-delivered-job_AbC12345@fax.example.com>',
    );
  });

  it('quotes a display name with specials and never lets CR/LF into the To header', () => {
    const mail = composeReceipt(
      input({ sender: { address: 'bob@example.com', name: 'Bob "B", Jr\r\nBcc: x@y' } }),
    );
    expect(mail.to).toEqual(['"Bob \\"B\\", Jr Bcc: x@y" <bob@example.com>']);
  });

  it('refuses a mail.from without an address', () => {
    expect(() => composeReceipt(input({ from: 'Fax Gateway' }))).toThrow(/mail\.from/);
  });
});

describe('composeReceipt bodies', () => {
  it('gives pages, duration, both time zones and every attempt', () => {
    const { text } = composeReceipt(input());
    expect(text).toContain('was delivered');
    expect(text).toMatch(/Pages:\s+5 pages/);
    expect(text).toMatch(/Duration:\s+1 min 12 s/);
    expect(text).toContain('2026-11-27 14:03:05 UTC (2026-11-27 09:03:05 EST, America/New_York)');
    expect(text).toContain('2026-11-27 14:09:40 UTC');
    expect(text).toMatch(/1\. 2026-11-27 14:03:10 UTC.*failed, the line was busy \(user_busy\)/);
    expect(text).toMatch(/2\. 2026-11-27 14:06:40 UTC.*delivered, 5 pages in 1 min 12 s/);
    expect(text).toContain('"Signed contract"');
    expect(text).not.toContain('delivered 5 of 5');
  });

  it('says "delivered N of M pages" when fewer pages went through', () => {
    const mail = composeReceipt(input({ pagesSent: 3 }));
    expect(mail.text).toContain('delivered 3 of 5 pages');
    expect(mail.subject).toBe('Fax to +15551234567 delivered (3 pages)');
  });

  it('never writes "1 pages"', () => {
    const mail = composeReceipt(input({ pages: 1, pagesSent: 1, attempts: [] }));
    expect(mail.text).toMatch(/Pages:\s+1 page\n/);
    expect(`${mail.subject}\n${mail.text}`).not.toMatch(/\b1 pages\b/);
  });

  it('shows UTC only when the zone is UTC', () => {
    const { text } = composeReceipt(input({ timezone: 'UTC' }));
    expect(text).toMatch(/Accepted:\s+2026-11-27 14:03:05 UTC\n/);
  });

  it('explains a failure in plain words with advice, the code and the detail', () => {
    const mail = composeReceipt(
      input({
        kind: 'failed',
        failureReason: 'receiver_unallocated_number',
        failureDetail: 'number not in service',
        document: { filename: 'contract.pdf', path: '/var/docs/abc.pdf', size: 2 * 1024 * 1024 },
      }),
    );
    expect(mail.text).toContain('could not be delivered: the number does not exist.');
    expect(mail.text).toContain('not assigned to anyone');
    expect(mail.text).toMatch(/What to do: Check the fax number/);
    expect(mail.text).toMatch(/Reason code:\s+receiver_unallocated_number/);
    expect(mail.text).toContain('Detail from the fax service: number not in service');
    expect(mail.text).toContain('contract.pdf (2.0 MB) is attached');
    expect(mail.attachments).toEqual([
      { filename: 'contract.pdf', path: '/var/docs/abc.pdf', contentType: 'application/pdf' },
    ]);
  });

  it('names converted documents as the sender attached them, and attaches the fax PDF under a .pdf name', () => {
    const failed = (filename: string) =>
      composeReceipt(
        input({
          kind: 'failed',
          failureReason: 'user_busy',
          document: { filename, path: '/d/x.pdf', size: 1024 },
        }),
      );
    const one = failed('Letter.docx');
    expect(one.text).toContain('Your document Letter.docx (1 KB) is attached');
    expect(one.attachments[0]!.filename).toBe('Letter.pdf');
    const several = failed('IMG_2041.HEIC + Letter.docx');
    expect(several.text).toContain('Your document IMG_2041.HEIC + Letter.docx (1 KB)');
    expect(several.attachments[0]!.filename).toBe('document.pdf');
  });

  it('links the document of a failed fax when it has no path', () => {
    const mail = composeReceipt(
      input({
        kind: 'failed',
        failureReason: 'user_busy',
        document: {
          filename: 'big.pdf',
          link: 'https://fax.example.com/d/xyz?sig=1',
          size: 30 * 1024 * 1024,
        },
      }),
    );
    expect(mail.attachments).toEqual([]);
    expect(mail.text).toContain('big.pdf (30.0 MB) is too large to attach');
    expect(mail.text).toContain('https://fax.example.com/d/xyz?sig=1');
  });

  it('does not attach documents to accepted or delivered receipts', () => {
    const doc = { filename: 'a.pdf', path: '/var/docs/a.pdf', size: 10 };
    expect(composeReceipt(input({ kind: 'delivered', document: doc })).attachments).toEqual([]);
    expect(composeReceipt(input({ kind: 'accepted', document: doc })).attachments).toEqual([]);
  });

  it('words an API refusal and an unknown outcome', () => {
    const refused = composeReceipt(
      input({
        kind: 'failed',
        attempts: [],
        failureReason: INTERNAL_FAILURE_REASONS.apiRejected,
        failureDetail: 'The parameter to is invalid (10016)',
      }),
    );
    expect(refused.subject).toBe('Fax to +15551234567 failed: the fax service refused the request');
    expect(refused.text).toContain('The parameter to is invalid (10016)');
    expect(refused.text).toContain('the fax was never placed');
    const unknown = composeReceipt(
      input({ kind: 'failed', failureReason: INTERNAL_FAILURE_REASONS.outcomeUnknown }),
    );
    expect(unknown.subject).toBe('Fax to +15551234567 failed: the outcome is unknown');
    expect(unknown.text).toMatch(/Ask the recipient whether the fax arrived/);
  });

  it('is the same text when composed twice (a resend after a crash)', () => {
    expect(composeReceipt(input({ kind: 'failed', failureReason: 'carrier_lost' }))).toEqual(
      composeReceipt(input({ kind: 'failed', failureReason: 'carrier_lost' })),
    );
  });
});

describe('composeReceipt: the subject as the sender sees it', () => {
  it('quotes the original subject without the [cover], [fine] and other tags', () => {
    const mail = composeReceipt(
      input({
        kind: 'delivered',
        original: { messageId: null, references: [], subject: '[cover] Referral [FINE] for Dr. Lee' },
      }),
    );
    expect(mail.text).toContain('Your email: "Referral for Dr. Lee"');
    expect(mail.text).not.toMatch(/\[cover\]|\[fine\]/i);
  });
});
