/**
 * Mail gateways rewrite the envelope sender (MAIL FROM) of mail they pass on, so that bounces can be checked or
 * routed back: the address a `senders` rule names is still inside, and is what the rules must see.
 *
 * - BATV (bounce address tag validation): `prvs=<tag>=alice@example.com`, Barracuda's `btv1==<tag>==alice@…`,
 *   Microsoft's `msprvs1=<tag>=alice@…`, and the older `prvs=alice=<tag>@…`. The domain is unchanged.
 * - SRS (sender rewriting scheme, for forwarding): `SRS0=<hash>=<time>=example.com=alice@forwarder.example`
 *   and, after a second forwarder, `SRS1=<hash>=first-forwarder==<hash>=<time>=example.com=alice@…`.
 *
 * A mangled or unknown form is left as it is: the rules then judge the address as written.
 */

/**
 * BATV's tag-first forms; the local part is the rest. prvs and btv tags are hex (prvs: KDDDSSSSSS), Microsoft's
 * are letters and digits.
 */
const BATV_TAG_FIRST = /^(?:(?:prvs|btv\d+)=+[0-9a-f]+|msprvs\d*=+[0-9a-z]+)=+(.+)$/i;
/** The early `prvs=local=tag` form, where the tag is exactly 10 characters of key, day and hash. */
const BATV_TAG_LAST = /^prvs=(.+)=[0-9a-f]{10}$/i;
/** SRS0 after its separator: hash, timestamp, original domain, original local part (which may hold `=`). */
const SRS0 = /^srs0[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i;
/** SRS1 keeps the first forwarder's SRS0 payload after `==` (or `=+`/`=-`). */
const SRS1 = /^srs1[=+-][^=]+=[^=]+=[=+-]([^=]+)=([^=]+)=([^=]+)=(.+)$/i;
/** BATV inside SRS, or the reverse: a few rounds unwrap any sensible nesting without looping forever. */
const MAX_ROUNDS = 4;

/** The sender a gateway-rewritten envelope address stands for; any other address comes back unchanged. */
export function originalEnvelopeSender(address: string): string {
  let current = address.trim();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = unwrapOnce(current);
    if (next === null) break;
    current = next;
  }
  return current;
}

function unwrapOnce(address: string): string | null {
  const at = address.lastIndexOf('@');
  if (at <= 0) return null;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const srs = SRS1.exec(local) ?? SRS0.exec(local);
  if (srs) {
    const [, , , originalDomain, originalLocal] = srs;
    return originalDomain!.includes('.') ? `${originalLocal!}@${originalDomain!}` : null;
  }
  const batv = BATV_TAG_FIRST.exec(local) ?? BATV_TAG_LAST.exec(local);
  return batv ? `${batv[1]!}@${domain}` : null;
}
