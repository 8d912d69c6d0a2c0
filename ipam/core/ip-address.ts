import { InvalidAddressError } from './errors';

// Addresses are bigints so that IPv4 and IPv6 share one arithmetic (ordinal = ip − blockBase).
// Parsing accepts what Go's net.ParseIP accepts, minus zones: Calico writes block CIDRs and
// handle keys with Go's formatter, and we must read them back and print the same text.

/** 4 or 6. */
export type IpFamily = 4 | 6;

/** One IPv4 or IPv6 address as an unsigned integer of 32 or 128 bits. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** Address width in bits: 32 for IPv4, 128 for IPv6. */
export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** The family name used in messages: `IPv4` or `IPv6`. */
export function familyName(family: IpFamily): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}

const OCTET = /^(0|[1-9]\d{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;
// The IPv4-mapped prefix ::ffff:0:0/96 (RFC 4291 §2.5.5.2), printed in mixed notation.
const V4_MAPPED_HIGH = 0xffffn;

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // No leading zeros: Go ≥ 1.17 rejects them because other parsers read them as octal.
    if (!OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseGroups(part: string): number[] | null {
  if (part === '') return [];
  const groups: number[] = [];
  const items = part.split(':');
  for (const [i, item] of items.entries()) {
    if (i === items.length - 1 && item.includes('.')) {
      const v4 = parseV4(item);
      if (v4 === null) return null;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (HEXTET.test(item)) {
      groups.push(parseInt(item, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseV6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address may only stand last, so it cannot end the head before a '::'.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IP address, or returns null; accepts `10.0.0.1`, `fd00::1`, `::ffff:10.0.0.1`. */
export function tryParseIp(text: string): IpAddress | null {
  if (text.length === 0 || text.length > 45) return null;
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseV4(text);
  return value === null ? null : { family: 4, value };
}

/** Parses an IP address; throws InvalidAddressError naming the text. */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (ip === null) throw new InvalidAddressError(`invalid IP address ${JSON.stringify(text)}`);
  return ip;
}

/** Builds an address from its integer value; throws if the value does not fit the family. */
export function ipFromValue(family: IpFamily, value: bigint): IpAddress {
  if (value < 0n || value >= 1n << BigInt(familyBits(family))) {
    throw new InvalidAddressError(`${value} is not an ${familyName(family)} address value`);
  }
  return { family, value };
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatV6(value: bigint): string {
  if (value >> 32n === V4_MAPPED_HIGH) return `::ffff:${formatV4(value & 0xffffffffn)}`;
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) =>
    Number((value >> s) & 0xffffn),
  );
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  const before = hex(groups.slice(0, bestStart));
  const after = hex(groups.slice(bestStart + bestLength));
  return `${before}::${after}`;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 (lowercase, `::` for the longest zero run) for IPv6. */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

/** True when both are the same address of the same family. */
export function sameIp(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}
