import { randomBytes } from 'node:crypto';

/**
 * A new row id: a short kind prefix (`doc`, `msg`, `fx`) and 96 random bits in base64url, so ids cannot be
 * guessed and match the job-id syntax promised in SMTP replies (`[A-Za-z0-9_-]{8,40}`).
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
