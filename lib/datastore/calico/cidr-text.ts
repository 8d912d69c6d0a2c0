import { cidrFamily } from '../../cni/ip-text';

// CIDRs in the text form Go's net.IPNet.String() gives, because Calico builds keys from it
// (`…/ipv6/block/fd80:24e2:f998:72d6::-122`) and uses it as map keys (handle `block`): the same
// block written as `fd80:24e2:f998:72d6:0:0:0:0/122` would be a different key.

/**
 * The canonical network of a CIDR, as Go's net.ParseCIDR + IPNet.String(): host bits cleared,
 * IPv6 in RFC 5952 form (lower case, no leading zeros, the first longest run of two or more zero
 * groups as `::`). Undefined when `text` is not a CIDR.
 */
export function canonicalCidr(text: string): string | undefined {
  const family = cidrFamily(text);
  if (family === 0) return undefined;
  const slash = text.indexOf('/');
  const prefix = Number(text.slice(slash + 1));
  const address = text.slice(0, slash);
  const bytes = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
  mask(bytes, prefix);
  return `${family === 4 ? bytes.join('.') : formatIpv6(bytes)}/${prefix}`;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const result: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(group);
        result.push((a << 8) | b, (c << 8) | d);
      } else {
        result.push(parseInt(group, 16));
      }
    }
    return result;
  };
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const zeros = new Array<number>(8 - before.length - after.length).fill(0);
  return [...before, ...zeros, ...after].flatMap((group) => [group >> 8, group & 0xff]);
}

function mask(bytes: number[], prefix: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff00 >> keep) & 0xff);
  }
}

function formatIpv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (list: number[]): string => list.map((group) => group.toString(16)).join(':');
  // RFC 5952 §4.2.2: "::" never stands for a single zero group.
  if (bestLength < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
