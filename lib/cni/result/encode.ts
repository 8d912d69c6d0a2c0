import { CniError, ErrorCode } from '../errors';
import { cidrFamily } from '../ip-text';
import type { SpecVersion } from '../versions';
import { resultFormat } from './format';
import type { Dns, Interface, IpConfig, Result, Route } from './types';

/** A result as printed: plain JSON in the shape of one spec version. */
export type WireResult = Record<string, unknown>;

/**
 * Writes `result` in the shape of `version`, stamped with that exact version string. Empty lists
 * are omitted and `dns` is always present, as the Go types print them.
 */
export function encodeResult(result: Result, version: SpecVersion): WireResult {
  const format = resultFormat(version);
  if (format === 'legacy') return encodeLegacy(result, version);
  const full = format === 'v1.1';
  return {
    cniVersion: version,
    ...nonEmpty(
      'interfaces',
      result.interfaces.map((i) => encodeInterface(i, full)),
    ),
    ...nonEmpty(
      'ips',
      result.ips.map((ip) => encodeIp(ip, format === 'versioned-ips')),
    ),
    ...nonEmpty(
      'routes',
      result.routes.map((r) => encodeRoute(r, full)),
    ),
    dns: encodeDns(result.dns),
  };
}

function encodeInterface(i: Interface, full: boolean): Record<string, unknown> {
  return pick(
    i,
    full ? ['name', 'mac', 'mtu', 'sandbox', 'socketPath', 'pciID'] : ['name', 'mac', 'sandbox'],
  );
}

function encodeIp(ip: IpConfig, withVersion: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (withVersion) out.version = String(cidrFamily(ip.address));
  return { ...out, ...pick(ip, ['address', 'gateway', 'interface']) };
}

function encodeRoute(r: Route, full: boolean): Record<string, unknown> {
  return pick(
    r,
    full ? ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] : ['dst', 'gw'],
  );
}

function encodeDns(dns: Dns): Record<string, unknown> {
  return pick(dns, ['nameservers', 'domain', 'search', 'options']);
}

// 0.1.0/0.2.0 hold one address per family: the first v4 and the first v6 (as libcni converts), and
// each route goes with the family of its destination.
function encodeLegacy(result: Result, version: SpecVersion): WireResult {
  const out: WireResult = { cniVersion: version };
  for (const family of [4, 6] as const) {
    const ip = result.ips.find((candidate) => cidrFamily(candidate.address) === family);
    if (ip === undefined) continue;
    const routes = result.routes.filter((r) => cidrFamily(r.dst) === family);
    out[`ip${family}`] = {
      ip: ip.address,
      ...pick(ip, ['gateway']),
      ...nonEmpty(
        'routes',
        routes.map((r) => encodeRoute(r, false)),
      ),
    };
  }
  if (out.ip4 === undefined && out.ip6 === undefined) {
    throw new CniError(
      ErrorCode.internal,
      `cannot write a ${version} result without an IP address`,
    );
  }
  return { ...out, dns: encodeDns(result.dns) };
}

function pick<T extends object>(source: T, keys: readonly (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined) out[String(key)] = value;
  }
  return out;
}

function nonEmpty(key: string, list: unknown[]): Record<string, unknown> {
  return list.length === 0 ? {} : { [key]: list };
}
