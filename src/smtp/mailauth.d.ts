/**
 * The part of mailauth 4.x (plain JS, no bundled types) faxbridge uses: `authenticate` runs DKIM, SPF and DMARC
 * over a raw message. Only the result fields read by src/smtp/senderAuth.ts are declared.
 */
declare module 'mailauth' {
  import type { Readable } from 'node:stream';

  /** Same contract as `dns.promises.resolve(name, rrtype)`; errors carry `code` (ENOTFOUND, ENODATA, ETIMEOUT). */
  export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown>;

  export interface MailauthStatus {
    result: string;
    comment?: string | false;
    aligned?: string | false;
  }

  export interface AuthenticateResult {
    dkim: {
      headerFrom?: string[];
      results?: Array<{ signingDomain?: string; status: MailauthStatus; info?: string }>;
    };
    spf: { domain?: string; status: MailauthStatus; info?: string } | false;
    dmarc: { status: MailauthStatus; domain?: string; policy?: string; p?: string; info?: string } | false;
  }

  export function authenticate(
    input: Readable | Buffer | string,
    options: {
      ip?: string;
      helo?: string;
      sender?: string;
      mta?: string;
      resolver?: MailauthResolver;
      disableArc?: boolean;
      disableBimi?: boolean;
      disableDmarc?: boolean;
      minBitLength?: number;
    },
  ): Promise<AuthenticateResult>;
}
