import { describe, expect, it } from 'vitest';

import {
  composeInboundFailure,
  composeInboundFax,
  type InboundFailureInput,
  type InboundFaxInput,
} from '../../src/mail/composeInbound.js';

const MB = 1024 * 1024;

function fax(overrides: Partial<InboundFaxInput> = {}): InboundFaxInput {
  return {
    faxId: 'b1e3c6a8-0000-4000-8000-000000000001',
    caller: '+15557654321',
    called: '+15550001111',
    recipients: ['frontdesk@example.com', 'alice@example.com'],
    pages: 3,
    partial: false,
    receivedAt: new Date('2026-11-27T14:03:05Z'),
    durationSecs: 95,
    mode: 'attach',
    document: {
      filename: 'fax.pdf',
      path: '/var/in/f1.pdf',
      link: 'https://fax.example.com/d/f1?sig=abc',
      size: MB,
    },
    maxAttachmentSize: 20 * MB,
    timezone: 'Europe/Berlin',
    from: 'Fax <fax@fax.example.com>',
    domain: 'fax.example.com',
    ...overrides,
  };
}

function failure(overrides: Partial<InboundFailureInput> = {}): InboundFailureInput {
  return {
    faxId: 'b1e3c6a8-0000-4000-8000-000000000002',
    caller: '+15557654321',
    called: '+15550001111',
    recipients: ['frontdesk@example.com'],
    failureReason: 'sender_call_dropped',
    failedAt: new Date('2026-11-27T14:03:05Z'),
    timezone: 'UTC',
    from: 'Fax <fax@fax.example.com>',
    domain: 'fax.example.com',
    ...overrides,
  };
}

describe('composeInboundFax subject', () => {
  it.each([
    [{}, 'Fax from +15557654321 (3 pages)'],
    [{ pages: 1 }, 'Fax from +15557654321 (1 page)'],
    [{ partial: true }, 'Fax from +15557654321 (3 pages) [partial]'],
    [{ caller: 'anonymous' }, 'Fax from unknown caller (3 pages)'],
    [{ caller: null, partial: true }, 'Fax from unknown caller (3 pages) [partial]'],
    [{ caller: '5551234' }, 'Fax from unknown caller (3 pages)'],
  ])('%j → %s', (overrides, subject) => {
    expect(composeInboundFax(fax(overrides)).subject).toBe(subject);
  });

  it('shows the raw caller in the body', () => {
    const { text } = composeInboundFax(fax({ caller: 'anonymous' }));
    expect(text).toContain('reported as "anonymous"');
  });
});

describe('composeInboundFax modes', () => {
  it('attach: the PDF as application/pdf, addressed to every routed mailbox', () => {
    const mail = composeInboundFax(fax());
    expect(mail.to).toEqual(['frontdesk@example.com', 'alice@example.com']);
    expect(mail.attachments).toEqual([
      { filename: 'fax.pdf', path: '/var/in/f1.pdf', contentType: 'application/pdf' },
    ]);
    expect(mail.text).toContain('attached as fax.pdf (1.0 MB)');
    expect(mail.text).not.toContain('https://');
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
    expect(mail.envelopeFrom).toBe('fax@fax.example.com');
    expect(mail.text).toMatch(
      /Received:\s+2026-11-27 14:03:05 UTC \(2026-11-27 15:03:05 GMT\+1, Europe\/Berlin\)/,
    );
    expect(mail.text).toMatch(/Duration:\s+1 min 35 s/);
  });

  it('attach over the size limit: a link instead, saying so', () => {
    const mail = composeInboundFax(fax({ document: { ...fax().document!, size: 25 * MB } }));
    expect(mail.attachments).toEqual([]);
    expect(mail.text).toContain('larger than the 20.0 MB attachment limit');
    expect(mail.text).toContain('https://fax.example.com/d/f1?sig=abc');
  });

  it('link: no attachment, the link and its expiry', () => {
    const doc = { ...fax().document!, linkExpiresAt: new Date('2026-12-27T14:03:05Z') };
    const mail = composeInboundFax(fax({ mode: 'link', document: doc }));
    expect(mail.attachments).toEqual([]);
    expect(mail.text).toContain(
      'Download the fax fax.pdf (1.0 MB) here:\nhttps://fax.example.com/d/f1?sig=abc',
    );
    expect(mail.text).toContain('valid until 2026-12-27 14:03:05 UTC');
  });

  it('notice: neither attachment nor link', () => {
    const mail = composeInboundFax(fax({ mode: 'notice' }));
    expect(mail.attachments).toEqual([]);
    expect(mail.text).not.toContain('https://');
    expect(mail.text).toContain('notice only');
    expect(mail.text).toContain('b1e3c6a8-0000-4000-8000-000000000001');
  });

  it('never drops the fax silently when neither path nor link exists', () => {
    const mail = composeInboundFax(fax({ document: { filename: 'fax.pdf', size: 25 * MB } }));
    expect(mail.text).toContain('ask your administrator');
  });

  it('unrouted: tells the admin why it came to them', () => {
    const mail = composeInboundFax(fax({ unrouted: true, recipients: ['it@example.com'] }));
    expect(mail.text).toContain('No inbound route matches +15550001111');
    expect(mail.attachments).toHaveLength(1);
  });
});

describe('inbound Message-IDs', () => {
  it('depend on the fax and the recipient set, not on its order', () => {
    const a = composeInboundFax(fax());
    const reordered = composeInboundFax(fax({ recipients: ['Alice@example.com', 'frontdesk@example.com'] }));
    const other = composeInboundFax(fax({ recipients: ['it@example.com'] }));
    expect(a.messageId).toMatch(
      /^<fax-b1e3c6a8-0000-4000-8000-000000000001-[0-9a-f]{12}@fax\.example\.com>$/,
    );
    expect(reordered.messageId).toBe(a.messageId);
    expect(other.messageId).not.toBe(a.messageId);
    expect(
      composeInboundFailure(failure({ faxId: fax().faxId, recipients: fax().recipients })).messageId,
    ).not.toBe(a.messageId);
  });

  it('give a console re-send its own id, kept when that re-send is sent twice after a crash', () => {
    const original = composeInboundFax(fax());
    const resend = (id: string) =>
      composeInboundFax(
        fax({ resend: { id, by: 'alice@example.com', at: new Date('2026-11-28T09:00:00Z') } }),
      );
    const first = resend('rs_AAAAAAAAAAAAAAAA');
    expect(first.messageId).not.toBe(original.messageId);
    expect(resend('rs_AAAAAAAAAAAAAAAA').messageId).toBe(first.messageId);
    expect(resend('rs_BBBBBBBBBBBBBBBB').messageId).not.toBe(first.messageId);
    expect(first.text).toContain('sent again by alice@example.com from the web console on');
    expect(first.attachments.map((part) => part.path)).toEqual(original.attachments.map((part) => part.path));
  });
});

describe('composeInboundFailure', () => {
  it('says a fax from +X to +Y failed and why', () => {
    const mail = composeInboundFailure(failure());
    expect(mail.subject).toBe('Fax from +15557654321 to +15550001111 failed: the call was dropped');
    expect(mail.text).toContain('A fax from +15557654321 to +15550001111 could not be received');
    expect(mail.text).toMatch(/Reason code:\s+sender_call_dropped/);
    expect(mail.attachments).toEqual([]);
    expect(mail.to).toEqual(['frontdesk@example.com']);
  });

  it('handles an unknown caller and an unknown reason', () => {
    const mail = composeInboundFailure(failure({ caller: null, failureReason: 'odd_new_thing' }));
    expect(mail.subject).toBe(
      'Fax from unknown caller to +15550001111 failed: fax service error odd_new_thing',
    );
  });
});

describe('composeInboundFax: first page shown inline', () => {
  const png = Buffer.from('89504e470d0a1a0a', 'hex');

  it.each(['attach', 'link'] as const)('%s mode: the picture is referenced from the HTML part', (mode) => {
    const mail = composeInboundFax(fax({ mode, preview: png }));
    const picture = mail.attachments.find((part) => part.contentType === 'image/png');
    expect(picture).toBeDefined();
    expect(mail.html).toContain(`cid:${(picture as { cid: string }).cid}`);
    expect(mail.html).toContain('You have received a fax');
  });

  it('notice mode never shows the document, not even its first page', () => {
    const mail = composeInboundFax(fax({ mode: 'notice', preview: png }));
    expect(mail.attachments.some((part) => part.contentType === 'image/png')).toBe(false);
    expect(mail.html).toBeUndefined();
  });
});
