/**
 * Bounces of our own receipts come back to `mail.from`'s address with a null sender (docs/behaviour.md §6).
 * Which receipt bounced is read from its Message-ID (`<receipt-<kind>-<job>@…>`, receipts/mailParts.ts),
 * which a delivery status notification quotes in its returned headers; the reason from its Status and
 * Diagnostic-Code.
 */
export interface ReceiptBounce {
  jobId: string;
  kind: 'receipt_accepted' | 'receipt_delivered' | 'receipt_failed';
  detail: string;
}

/** Bounces are small; the quoted headers sit near the start. Only this much of a bounce is kept to read it. */
export const BOUNCE_HEAD_BYTES = 256 * 1024;

const RECEIPT_ID = /<receipt-(accepted|delivered|failed)-([A-Za-z0-9_-]{8,40})@/;
const STATUS = /^Status:\s*([245]\.\d{1,3}\.\d{1,3})/im;
const DIAGNOSTIC = /^Diagnostic-Code:\s*(?:smtp;\s*)?(.{1,200})/im;

export function findReceiptBounce(head: string): ReceiptBounce | null {
  const id = RECEIPT_ID.exec(head);
  if (!id) return null;
  const status = STATUS.exec(head)?.[1];
  const diagnostic = DIAGNOSTIC.exec(head)?.[1]?.trim();
  const detail = ['bounced', status, diagnostic].filter(Boolean).join(': ');
  return { jobId: id[2]!, kind: `receipt_${id[1]}` as ReceiptBounce['kind'], detail };
}

/** Keeps the first `limit` bytes that flow past, without slowing or consuming the stream. */
export function collectHead(stream: NodeJS.ReadableStream, limit = BOUNCE_HEAD_BYTES): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  const onData = (chunk: Buffer) => {
    if (kept >= limit) return stream.removeListener('data', onData);
    chunks.push(chunk.subarray(0, limit - kept));
    kept += Math.min(chunk.length, limit - kept);
  };
  stream.on('data', onData);
  return () => Buffer.concat(chunks).toString('latin1');
}
