import { InvalidAddressError } from './errors';
import {
  familyBits,
  familyName,
  formatIp,
  tryParseIp,
  type IpAddress,
  type IpFamily,
} from './ip-address';

/** A network: `base` has every host bit zero, `prefix` is 0–32 (IPv4) or 0–128 (IPv6). */
export interface Cidr {
  readonly family: IpFamily;
  readonly base: bigint;
  readonly prefix: number;
}

const PREFIX = /^(0|[1-9]\d{0,2})$/;

function hostBits(family: IpFamily, prefix: number): bigint {
  return BigInt(familyBits(family) - prefix);
}

/** The network of the given prefix length that contains `ip` (host bits cleared). */
export function networkOf(ip: IpAddress, prefix: number): Cidr {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > familyBits(ip.family)) {
    throw new InvalidAddressError(
      `prefix length ${prefix} is invalid for ${familyName(ip.family)}`,
    );
  }
  const shift = hostBits(ip.family, prefix);
  return { family: ip.family, base: (ip.value >> shift) << shift, prefix };
}

/**
 * Parses `addr/len` like Go's net.ParseCIDR: host bits are allowed and returned in `address`,
 * `network` has them cleared. Use parseNetwork where host bits are a mistake.
 */
export function parseCidr(text: string): { address: IpAddress; network: Cidr } {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? null : tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === null || !PREFIX.test(prefixText) || Number(prefixText) > familyBits(ip.family)) {
    throw new InvalidAddressError(`invalid CIDR ${JSON.stringify(text)}`);
  }
  return { address: ip, network: networkOf(ip, Number(prefixText)) };
}

/**
 * Parses a CIDR that must name a network (pool, block, reservation). Host bits set are an error
 * that names the network the user probably meant; `what` ("pool", "block") prefixes the message.
 */
export function parseNetwork(text: string, options: { what?: string } = {}): Cidr {
  const { address, network } = parseCidr(text);
  if (address.value !== network.base) {
    const label = options.what === undefined ? 'CIDR' : `${options.what} CIDR`;
    throw new InvalidAddressError(
      `${label} ${text} has host bits set (the network is ${formatCidr(network)})`,
    );
  }
  return network;
}

/** Canonical text `base/prefix`, with the address in formatIp's canonical form. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.base })}/${cidr.prefix}`;
}

/** Number of addresses in the network. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << hostBits(cidr.family, cidr.prefix);
}

/** The last address of the network (the broadcast address for IPv4). */
export function cidrLast(cidr: Cidr): IpAddress {
  return { family: cidr.family, value: cidr.base + cidrSize(cidr) - 1n };
}

/** True when `ip` lies inside the network (same family only). */
export function cidrContainsIp(cidr: Cidr, ip: IpAddress): boolean {
  return (
    cidr.family === ip.family && ip.value >= cidr.base && ip.value < cidr.base + cidrSize(cidr)
  );
}

/** True when `inner` lies wholly inside `outer` (equal networks included). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    networkOf({ family: inner.family, value: inner.base }, outer.prefix).base === outer.base
  );
}

/** True when the networks share at least one address; CIDRs either nest or are disjoint. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContainsCidr(a, b) || cidrContainsCidr(b, a);
}

/** True when both name the same network. */
export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base === b.base && a.prefix === b.prefix;
}
