/**
 * Where a received fax's `media_url` may lead. The URL comes in a webhook event: even signed, it must not make
 * the daemon fetch its own /metrics, a cloud metadata service or another internal host and mail the answer
 * as a fax. Outside sandbox, addresses that are private, loopback, link-local, unique-local (and the other
 * non-public ranges) are refused unless `telnyx.inbound_media_networks` lists them, and plain http is refused
 * unless the address is listed there. The check is made on the address the socket is about to connect to,
 * after DNS, so a name that resolves differently the second time (DNS rebinding) cannot get around it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

import { makeAddressMatcher } from '../lib/cidr.js';
import { buildConnector, type Connector } from '../lib/undiciCore.js';

export interface MediaAddressPolicy {
  /** Sandbox fetches from the built-in simulator on loopback, over http: nothing is refused. */
  sandbox: boolean;
  /** CIDR ranges a media link may point into even though they are not public (and there, http is fine). */
  allowedNetworks: readonly string[];
}

/** Not reachable on the public internet, or not meant to be fetched from (RFC 6890 and friends). */
const NON_PUBLIC_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b:1::/48',
  '100::/64',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

export class MediaAddressRefused extends Error {
  readonly code = 'EMEDIAREFUSED';
}

/** Why a connection to `address` over `protocol` is refused, or null when it may go ahead. */
export function makeMediaAddressCheck(
  policy: MediaAddressPolicy,
): (address: string, protocol: string) => string | null {
  const isAllowed = makeAddressMatcher(policy.allowedNetworks);
  const isNonPublic = makeAddressMatcher(NON_PUBLIC_RANGES);
  return (address, protocol) => {
    if (policy.sandbox || isAllowed(address)) return null;
    if (isNonPublic(address)) {
      return `media_url points to ${address}, a private, loopback or link-local address (allow it with telnyx.inbound_media_networks)`;
    }
    if (protocol !== 'https:') return 'media_url is not https';
    return null;
  };
}

/** An undici `connect` that applies the policy to every address it connects to. */
export function makeMediaConnector(policy: MediaAddressPolicy, options: { timeoutMs: number }): Connector {
  const check = makeMediaAddressCheck(policy);
  const guardedLookup =
    (protocol: string): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      dnsLookup(hostname, { ...lookupOptions, all: true }, (error, found: LookupAddress[]) => {
        if (error) return callback(error, '', 0);
        // One refused answer refuses the name: a rebinding name may list a public and a private address.
        for (const { address } of found) {
          const why = check(address, protocol);
          if (why) return callback(new MediaAddressRefused(why), '', 0);
        }
        if (lookupOptions.all) return callback(null, found as unknown as string);
        const first = found[0]!;
        callback(null, first.address, first.family);
      });
    };
  const connectors = {
    'http:': buildConnector({ timeout: options.timeoutMs, lookup: guardedLookup('http:') }),
    'https:': buildConnector({ timeout: options.timeoutMs, lookup: guardedLookup('https:') }),
  };
  return (connectOptions, callback) => {
    const protocol = connectOptions.protocol === 'https:' ? 'https:' : 'http:';
    // An address literal is connected to without a lookup: check it here.
    const literal = connectOptions.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(literal)) {
      const why = check(literal, protocol);
      if (why) return callback(new MediaAddressRefused(why), null);
    }
    connectors[protocol](connectOptions, callback);
  };
}
