import { generateKeyPairSync } from 'node:crypto';

/**
 * DNS for sender-authentication tests: answers from a table (`TXT _dmarc.example.com` → records) the way
 * `dns.promises.resolve` would, ENOTFOUND for everything else. `fail` makes chosen names time out (ETIMEOUT).
 */
export interface DnsTable {
  resolve(name: string, rrtype: string): Promise<unknown>;
  set(rrtype: string, name: string, records: unknown): void;
  fail(name: string): void;
  /** Names looked up so far, as `TYPE name`. */
  asked: string[];
}

export function makeDnsTable(entries: Record<string, unknown> = {}): DnsTable {
  const table = new Map(Object.entries(entries).map(([key, value]) => [key.toLowerCase(), value]));
  const failing = new Set<string>();
  const asked: string[] = [];
  return {
    asked,
    async resolve(name, rrtype) {
      const key = `${rrtype} ${name}`.toLowerCase();
      asked.push(key);
      if (failing.has(name.toLowerCase())) {
        throw Object.assign(new Error(`queryTxt ETIMEOUT ${name}`), { code: 'ETIMEOUT' });
      }
      if (table.has(key)) return table.get(key);
      throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    },
    set(rrtype, name, records) {
      table.set(`${rrtype} ${name}`.toLowerCase(), records);
    },
    fail(name) {
      failing.add(name.toLowerCase());
    },
  };
}

/** An RSA key pair for DKIM: the PEM private key for nodemailer, the TXT record for the table. */
export function makeDkimKey(): { privateKey: string; record: string[][] } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: [[`v=DKIM1; k=rsa; p=${p}`]],
  };
}
