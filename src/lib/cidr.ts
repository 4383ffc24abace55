import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Matches client addresses against CIDR ranges; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) counts as IPv4. */
export function makeAddressMatcher(ranges: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const range of ranges) {
    const [ip, bits] = range.split('/');
    const family = isIPv6(ip!) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip!, family);
    else list.addSubnet(ip!, Number(bits), family);
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (isIPv4(plain)) return list.check(plain, 'ipv4');
    if (isIPv6(plain)) return list.check(plain, 'ipv6');
    return false;
  };
}

export function isValidCidr(range: string): boolean {
  const [ip, bits, extra] = range.split('/');
  if (extra !== undefined || !ip) return false;
  const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
  if (max < 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
}
