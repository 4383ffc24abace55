import { promises as dns } from 'node:dns';
import { createReadStream } from 'node:fs';

import type { AuthenticateResult, MailauthResolver } from 'mailauth';

import type { AuthSummary } from '../domain/senderTrust.js';
import { SECOND } from '../lib/units.js';

/**
 * SPF, DKIM and DMARC of a received message with mailauth, reduced to the facts
 * src/domain/senderTrust.ts judges. The message is read back from its spool file, so a 70 MB message costs disk,
 * not memory. DNS is injectable (tests serve TXT records from a table) and every lookup has a deadline, so a
 * slow or dead resolver turns into a DNS error (451, try later), never into a stalled SMTP session.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

export interface SenderAuthInput {
  spoolPath: string;
  /** The SMTP client's address and HELO name, and the envelope sender (MAIL FROM), as SPF needs them. */
  ip: string;
  helo: string;
  envelopeFrom: string;
  /** Header From domain, lower case. */
  fromDomain: string;
  /** Our host name, for the Authentication-Results text mailauth builds (not used further). */
  mta: string;
}

export interface SenderAuthOptions {
  resolver?: DnsResolver;
  /** Per DNS lookup; default 5 s. */
  lookupTimeoutMs?: number;
  /** For the whole check; default 30 s. */
  timeoutMs?: number;
}

export async function checkSenderAuthentication(
  input: SenderAuthInput,
  options: SenderAuthOptions = {},
): Promise<AuthSummary> {
  const resolver = withTimeout(options.resolver ?? systemResolver, options.lookupTimeoutMs ?? 5 * SECOND);
  const stream = createReadStream(input.spoolPath);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('sender authentication took too long'), { code: 'ETIMEOUT' })),
      options.timeoutMs ?? 30 * SECOND,
    );
  });
  try {
    // Loaded on first use: a gateway behind a trusted relay never needs it.
    const { authenticate } = await import('mailauth');
    const result = await Promise.race([
      authenticate(stream, {
        ip: input.ip,
        helo: input.helo || input.ip,
        sender: input.envelopeFrom,
        mta: input.mta,
        resolver,
        disableArc: true,
        disableBimi: true,
      }),
      deadline,
    ]);
    return summarise(result, input.fromDomain);
  } catch (error) {
    // Whatever went wrong (deadline, resolver, a message mailauth cannot read) is a temporary failure to check.
    return {
      fromDomain: input.fromDomain,
      spf: { result: 'temperror', domain: null },
      dkim: [],
      dmarc: { result: 'temperror', policy: null },
      error: (error as Error).message,
    };
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}

function summarise(result: AuthenticateResult, fromDomain: string): AuthSummary {
  const spf = result.spf
    ? { result: result.spf.status.result, domain: result.spf.domain ?? null }
    : { result: 'none', domain: null };
  const dkim = (result.dkim.results ?? [])
    .filter((signature) => signature.signingDomain)
    .map((signature) => ({
      result: signature.status.result,
      domain: signature.signingDomain!.toLowerCase(),
      aligned: !!signature.status.aligned,
    }));
  const dmarc = result.dmarc
    ? { result: result.dmarc.status.result, policy: result.dmarc.policy ?? result.dmarc.p ?? null }
    : null;
  return { fromDomain, spf, dkim, dmarc };
}

const systemResolver: DnsResolver = (name, rrtype) => dns.resolve(name, rrtype);

/** mailauth reads `code` off resolver errors: ETIMEOUT becomes a temperror, ENOTFOUND/ENODATA "no record". */
function withTimeout(resolver: DnsResolver, ms: number): MailauthResolver {
  return (name, rrtype) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(Object.assign(new Error(`DNS lookup of ${name} timed out`), { code: 'ETIMEOUT' })),
        ms,
      );
      resolver(name, rrtype).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
}
