/**
 * The anchors' make-msg as a function: a multipart/mixed email with a short text part (one line starts with a
 * dot, so dot-stuffing is exercised) and the PDF in base64 at 76 columns.
 *
 * Line endings are LF on purpose: Postfix's `smtp-source -F` strips each LF and sends CRLF, so a CRLF file would
 * arrive with doubled CRs.
 *
 * There is no Message-ID header. smtp-source sends the same file every time, and faxbridge answers a message it
 * has already queued (same sender and Message-ID within a day) with the existing jobs, without reading the PDF
 * again. Without a Message-ID every copy is a new message that goes all the way through.
 */
export interface BenchMessageOptions {
  pdf: Buffer;
  from: string;
  to: string;
  filename?: string;
  subject?: string;
}

const BASE64_COLUMNS = 76;

export function makeBenchMessage(options: BenchMessageOptions): Buffer {
  const boundary = '----=_faxbridge_bench_boundary_7f3a';
  const filename = options.filename ?? 'fax.pdf';
  const base64 = options.pdf.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += BASE64_COLUMNS) lines.push(base64.slice(i, i + BASE64_COLUMNS));
  const head = [
    'Received: from bench.example.com (localhost [127.0.0.1]) by bench.example.com; Fri, 27 Nov 2026 12:00:00 +0000',
    `From: Bench Sender <${options.from}>`,
    `To: <${options.to}>`,
    `Subject: ${options.subject ?? 'Benchmark fax'}`,
    'Date: Fri, 27 Nov 2026 12:00:00 +0000',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    '',
    'Please fax the attached document.',
    '.this line starts with a dot and must survive dot-stuffing',
    '',
    `--${boundary}`,
    `Content-Type: application/pdf; name="${filename}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
  ];
  return Buffer.from([...head, ...lines, '', `--${boundary}--`, ''].join('\n'), 'latin1');
}
