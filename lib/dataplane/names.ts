import { CniError, ErrorCode } from '../cni/errors';

/**
 * The host end's MAC. Pinned so that udev/systemd never assign a "persistent" one (calico#763,
 * cni-plugin#340) and so that every pod sees the same gateway MAC.
 */
export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
/** The pods' IPv4 next hop; the host end answers ARP for it by proxy_arp. */
export const IPV4_GATEWAY = '169.254.1.1';
/** The host end's EUI-64 link-local address derived from HOST_MAC: the pods' IPv6 next hop. */
export const IPV6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

/**
 * Linux accepts 1–15 bytes without `/`, `:` or white space (dev_valid_name). Quotes, backslashes
 * and `#` are refused too: names are interpolated into `ip -batch` lines, whose tokenizer gives
 * them a meaning.
 */
export function assertInterfaceName(what: string, name: string): void {
  const reason =
    name === ''
      ? 'is empty'
      : Buffer.byteLength(name) > 15
        ? 'is longer than 15 bytes'
        : name === '.' || name === '..'
          ? 'is reserved'
          : /[\s/:"'\\#]/.test(name) || /[^\x21-\x7e]/.test(name)
            ? 'contains a character that is not allowed (white space, / : " \' \\ # or non-ASCII)'
            : undefined;
  if (reason !== undefined) {
    throw new CniError(
      ErrorCode.dataplaneFailed,
      `${what} ${JSON.stringify(name)} ${reason}: not a usable interface name`,
    );
  }
}

/** The 16 bytes of an IPv6 address as 32 lowercase hex digits, or undefined when it is not one. */
export function ipv6Hex(text: string): string | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined, last: boolean): string[] | undefined => {
    if (part === undefined || part === '') return [];
    const out: string[] = [];
    const parts = part.split(':');
    for (const [i, g] of parts.entries()) {
      if (last && i === parts.length - 1 && g.includes('.')) {
        if (!IPV4.test(g)) return undefined;
        const bytes = g.split('.').map(Number);
        out.push(
          ((bytes[0] ?? 0) * 256 + (bytes[1] ?? 0)).toString(16),
          ((bytes[2] ?? 0) * 256 + (bytes[3] ?? 0)).toString(16),
        );
      } else if (HEXTET.test(g)) {
        out.push(g);
      } else {
        return undefined;
      }
    }
    return out;
  };
  // An embedded IPv4 address (::ffff:10.0.0.1) may only stand last.
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<string>(missing).fill('0'), ...tail]
    .map((g) => g.toLowerCase().padStart(4, '0'))
    .join('');
}

/** 4 or 6 for a bare IP address, 0 for anything else (no node:net: it costs every plugin start). */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  return text.includes(':') && ipv6Hex(text) !== undefined ? 6 : 0;
}

/** True when two textual IPs denote the same address (`fd00::1` = `fd00:0::0001`). */
export function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const fa = ipFamily(a);
  if (fa !== ipFamily(b) || fa === 0) return false;
  return fa === 6 && ipv6Hex(a) === ipv6Hex(b);
}

/** Pod addresses split by family; anything that is not a bare IP is refused. */
export function splitAddresses(addresses: readonly string[]): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addresses) {
    const family = ipFamily(a);
    if (family === 4) v4.push(a);
    else if (family === 6) v6.push(a);
    else {
      throw new CniError(
        ErrorCode.dataplaneFailed,
        `pod address ${JSON.stringify(a)} is not a bare IPv4 or IPv6 address`,
      );
    }
  }
  return { v4, v6 };
}

/** `a.b.c.d/32` or `x::y/128`. */
export function hostPrefix(ip: string): string {
  return `${ip}/${ipFamily(ip) === 6 ? 128 : 32}`;
}
