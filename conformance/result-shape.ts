import { formatIp, tryParseIp } from '../ipam/core';
import { cidrFamily, ipFamily } from '../lib/cni/ip-text';
import type { IpRoute } from '../lib/dataplane/ip-json';
import { isObject, show } from './stdout';
import { atLeast } from './versions';

// Pure judgements of an ADD result (checklist items 40–47, 78): each returns the problems found,
// an empty list when the result is right. The harness pairs them with what `ip -j` observes.

/** Entries of an array-valued key of `result` that are objects (others are skipped). */
export function entries(result: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = result[key];
  return Array.isArray(v) ? (v as unknown[]).filter(isObject) : [];
}

/** Address part of a CIDR (`10.0.0.5/24` → `10.0.0.5`). */
export function addressOf(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}

/** Index in `interfaces` of the container interface: name = ifname and sandbox = netns. */
export function containerIndex(
  result: Record<string, unknown>,
  ifname: string,
  netns: string,
): number {
  return entries(result, 'interfaces').findIndex((i) => i.name === ifname && i.sandbox === netns);
}

/** Item 40: the container interface is listed with sandbox = CNI_NETNS; host ones have none. */
export function interfaceProblems(
  result: Record<string, unknown>,
  ifname: string,
  netns: string,
): string[] {
  const list = entries(result, 'interfaces');
  const named = list.filter((i) => i.name === ifname);
  const problems: string[] = [];
  if (named.length === 0) problems.push(`no interface named ${ifname} in the result`);
  for (const i of named) {
    if (i.sandbox !== netns) {
      problems.push(`${ifname} has sandbox ${show(i.sandbox)}, want ${JSON.stringify(netns)}`);
    }
  }
  for (const i of list) {
    const sandbox = i.sandbox;
    if (i.name !== ifname && sandbox !== undefined && sandbox !== '' && sandbox !== netns) {
      problems.push(`interface ${show(i.name)} has sandbox ${show(sandbox)}`);
    }
  }
  return problems;
}

/** Item 41: a MAC in `aa:bb:cc:dd:ee:ff` form (lowercase or uppercase hex). */
export function isMac(value: unknown): boolean {
  return typeof value === 'string' && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value);
}

/** Item 42: every ips[].interface is absent or the index of the container interface. */
export function ipIndexProblems(
  result: Record<string, unknown>,
  ifname: string,
  netns: string,
): string[] {
  const want = containerIndex(result, ifname, netns);
  const count = entries(result, 'interfaces').length;
  return entries(result, 'ips').flatMap((ip) => {
    const i = ip.interface;
    if (i === undefined) return [];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) {
      return [`ips[] ${show(ip.address)} has interface ${show(i)} (${count} interfaces)`];
    }
    return i === want ? [] : [`ips[] ${show(ip.address)} points at interface ${i}, not ${ifname}`];
  });
}

/** Item 43: addresses are CIDRs, gateways IPs of the same family. */
export function ipFormatProblems(result: Record<string, unknown>): string[] {
  const ips = entries(result, 'ips');
  if (ips.length === 0) return ['no ips in the result'];
  return ips.flatMap((ip) => {
    const address = typeof ip.address === 'string' ? ip.address : '';
    const family = cidrFamily(address);
    if (family === 0) return [`address ${show(ip.address)} is not a CIDR`];
    if (ip.gateway === undefined) return [];
    const gw = typeof ip.gateway === 'string' ? ipFamily(ip.gateway) : 0;
    if (gw === 0) return [`gateway ${show(ip.gateway)} is not an IP`];
    return gw === family ? [] : [`gateway ${show(ip.gateway)} is not in the family of ${address}`];
  });
}

/** Items 44, 45 (and B27): `cniVersion` = `version`, `ips` with `version` exactly below 1.0.0. */
export function versionShapeProblems(result: Record<string, unknown>, version: string): string[] {
  const problems: string[] = [];
  if (result.cniVersion !== version) problems.push(`cniVersion ${show(result.cniVersion)}`);
  if ('ip' in result) problems.push('result has the key "ip" (spec 0.3.0 typo), want "ips"');
  if (!Array.isArray(result.ips)) return [...problems, 'no "ips" array'];
  const legacy = !atLeast(version, '1.0.0');
  for (const ip of entries(result, 'ips')) {
    const v = ip.version;
    const family = cidrFamily(typeof ip.address === 'string' ? ip.address : '');
    if (legacy && v !== String(family)) {
      problems.push(`ips[] ${show(ip.address)} has version ${show(v)}, want "${family}"`);
    }
    if (!legacy && v !== undefined) problems.push(`ips[] carries version ${show(v)}`);
  }
  return problems;
}

/** Item 46, format half: dst CIDR, gw an IP, both of one family. */
export function routeFormatProblems(result: Record<string, unknown>): string[] {
  return entries(result, 'routes').flatMap((r) => {
    const dst = typeof r.dst === 'string' ? r.dst : '';
    const family = cidrFamily(dst);
    if (family === 0) return [`route dst ${show(r.dst)} is not a CIDR`];
    if (r.gw === undefined) return [];
    const gw = typeof r.gw === 'string' ? ipFamily(r.gw) : 0;
    if (gw === 0) return [`route ${dst} gw ${show(r.gw)} is not an IP`];
    return gw === family ? [] : [`route ${dst} mixes families (gw ${show(r.gw)})`];
  });
}

/** Fields spec 1.1.0 added (contract §4). */
const NEW_INTERFACE_FIELDS = ['mtu', 'socketPath', 'pciID'];
const NEW_ROUTE_FIELDS = ['mtu', 'advmss', 'priority', 'table', 'scope'];

/** Item 47: no 1.1.0-only fields below 1.1.0. */
export function newFieldProblems(result: Record<string, unknown>, version: string): string[] {
  if (atLeast(version, '1.1.0')) return [];
  const found = [
    ...entries(result, 'interfaces').flatMap((i) =>
      NEW_INTERFACE_FIELDS.filter((k) => k in i).map((k) => `interfaces[].${k}`),
    ),
    ...entries(result, 'routes').flatMap((r) =>
      NEW_ROUTE_FIELDS.filter((k) => k in r).map((k) => `routes[].${k}`),
    ),
  ];
  return found.length === 0 ? [] : [`${[...new Set(found)].join(', ')} at ${version}`];
}

/** Item 78: an IPAM result is abbreviated: no interfaces, no ips[].interface. */
export function abbreviatedProblems(result: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if ('interfaces' in result) problems.push('result has "interfaces"');
  for (const ip of entries(result, 'ips')) {
    if ('interface' in ip) problems.push(`ips[] ${show(ip.address)} has "interface"`);
  }
  if (result.routes !== undefined && !Array.isArray(result.routes)) {
    problems.push('"routes" is not an array');
  }
  if (result.dns !== undefined && !isObject(result.dns)) problems.push('"dns" is not an object');
  return problems;
}

/** `text` as iproute2 prints it (`0.0.0.0/0` → `default`, `/32` and `/128` dropped, v6 compressed). */
export function iprouteDst(text: string): string {
  const [addr = '', prefix] = text.split('/');
  const ip = tryParseIp(addr);
  const canonical = ip === null ? addr : formatIp(ip);
  if (prefix === '0') return 'default';
  if (prefix === undefined || prefix === (canonical.includes(':') ? '128' : '32')) return canonical;
  return `${canonical}/${prefix}`;
}

/** An IP in canonical text (v6 compressed), or the text itself when it does not parse. */
export function canonicalIp(text: string): string {
  const ip = tryParseIp(text);
  return ip === null ? text : formatIp(ip);
}

/** True when `routes` hold `dst` (via `gw` if given) on device `dev`. */
export function hasRoute(
  routes: readonly IpRoute[],
  want: { readonly dst: string; readonly gw?: string | undefined; readonly dev: string },
): boolean {
  const dst = iprouteDst(want.dst);
  return routes.some(
    (r) =>
      r.dst === dst &&
      r.dev === want.dev &&
      (want.gw === undefined || canonicalIp(r.gateway ?? '') === canonicalIp(want.gw)),
  );
}
