import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { CniError, ErrorCode } from '../cni/errors';

// The plugin runs in the node's network namespace, and /proc/self/net and /proc/sys/net show the
// namespace of the reading process: the host side can be read and tuned in-process, without
// spawning anything. (/sys/class/net shows the namespace of whoever mounted /sys, which is not
// always ours.)

/** Interface names of the caller's network namespace, from /proc/self/net/dev. */
export function parseNetDev(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) names.push(line.slice(0, colon).trim());
  }
  return names;
}

/** True when a link named `name` exists in the caller's network namespace. */
export function linkExistsHere(name: string): boolean {
  return parseNetDev(readFileSync('/proc/self/net/dev', 'utf8')).includes(name);
}

/**
 * The destinations of the IPv4 host routes (/32) on interfaces whose name starts with `prefix`,
 * from /proc/self/net/route: on a node, the addresses of the pods behind its cali* veths. The
 * kernel prints each address as the 32-bit word it stores in network order, so on a
 * little-endian host the bytes read backwards. Only lines that start with the prefix are split:
 * a node that also carries BGP routes to every other node's blocks has many more of those.
 */
export function parseHostRoutes(
  text: string,
  options: { prefix: string; littleEndian: boolean },
): string[] {
  const out: string[] = [];
  const marker = `\n${options.prefix}`;
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
    const end = text.indexOf('\n', at + 1);
    // A line cut off by a bounded read is not a route.
    if (end < 0) break;
    const [, destination, , , , , , mask] = text.slice(at + 1, end).split('\t');
    if (mask !== 'FFFFFFFF' || destination?.length !== 8) continue;
    const word = Number.parseInt(destination, 16);
    if (!Number.isInteger(word)) continue;
    const bytes = [word >>> 24, (word >>> 16) & 255, (word >>> 8) & 255, word & 255];
    out.push((options.littleEndian ? bytes.reverse() : bytes).join('.'));
  }
  return out;
}

/**
 * How much of the route table a hint may cost: 512 lines of 128 bytes. The kernel formats only
 * what is read, and past that the routes are hints not worth the time (the ADD then reads its
 * blocks in a round trip of their own).
 */
const ROUTE_TABLE_READ_BYTES = 64 * 1024;

/** The pod addresses routed to `prefix`* interfaces here; none if the table cannot be read. */
export function readHostRoutes(prefix: string): string[] {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/self/net/route', 'r');
    const buffer = Buffer.allocUnsafe(ROUTE_TABLE_READ_BYTES);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) break;
    }
    const text = buffer.toString('latin1', 0, length);
    return parseHostRoutes(text, { prefix, littleEndian: endianness() === 'LE' });
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One line of /proc/self/net/if_inet6. */
export interface Inet6Entry {
  /** 32 lowercase hex digits. */
  hex: string;
  ifname: string;
  /** IFA_F_* flags; 0x40 is tentative (duplicate address detection still running). */
  flags: number;
}

/** The IPv6 addresses of the caller's network namespace. */
export function parseIfInet6(text: string): Inet6Entry[] {
  const out: Inet6Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const [hex, , , , flags, ifname] = f;
    if (hex?.length === 32 && flags !== undefined && ifname !== undefined) {
      out.push({ hex: hex.toLowerCase(), ifname, flags: parseInt(flags, 16) });
    }
  }
  return out;
}

/** The IPv6 addresses here, or none when IPv6 is disabled in the kernel. */
export function readIfInet6(): Inet6Entry[] {
  try {
    return parseIfInet6(readFileSync('/proc/self/net/if_inet6', 'utf8'));
  } catch {
    return [];
  }
}

/** A sysctl under /proc/sys/net of the caller's namespace, e.g. `ipv4/conf/cali1/proxy_arp`. */
export interface Sysctl {
  key: string;
  value: string;
  /** Failure is only reported to `warn` (upstream does the same for proxy_delay and accept_ra). */
  optional?: boolean;
}

/** Write each sysctl in order; throws CniError 122 on the first required one that fails. */
export function writeSysctls(
  sysctls: readonly Sysctl[],
  warn: ((message: string) => void) | undefined,
): void {
  for (const s of sysctls) {
    try {
      writeFileSync(`/proc/sys/net/${s.key}`, s.value);
    } catch (err: unknown) {
      const message = `failed to set sysctl net/${s.key}=${s.value}: ${err instanceof Error ? err.message : String(err)}`;
      if (s.optional !== true) throw new CniError(ErrorCode.dataplaneFailed, message);
      warn?.(message);
    }
  }
}
