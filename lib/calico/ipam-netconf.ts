import { ErrorCode } from '../cni/errors';
import { FieldReader, type JsonObject } from '../cni/json-fields';

/** Where upstream's host-wide IPAM lock lives; the `ipam_lock_file` key overrides it. */
export const DEFAULT_IPAM_LOCK_FILE = '/var/run/calico/ipam.lock';

/** The IPAM keys of a Calico netconf (calico-behaviour.md §1.1, §1.2), parsed once. */
export interface IpamNetConf {
  assignIpv4: boolean;
  assignIpv6: boolean;
  /** Pool names or CIDRs, in the order given; empty means automatic selection. */
  ipv4Pools: string[];
  ipv6Pools: string[];
  lockFile: string;
}

const read = new FieldReader(ErrorCode.invalidNetworkConfig, 'invalid network config: ');

/**
 * Reads `ipam.assign_ipv4` / `assign_ipv6` the way Calico does: strings, where only the exact
 * `"false"` turns IPv4 off and only the exact `"true"` turns IPv6 on. A JSON boolean is also
 * accepted (upstream rejects it with a decode error, which only confuses users).
 */
export function parseIpamNetConf(netConf: JsonObject): IpamNetConf {
  const ipam = netConf.ipam === undefined ? {} : read.object(netConf.ipam, 'ipam');
  return {
    assignIpv4: flag(ipam.assign_ipv4, 'ipam.assign_ipv4', 'true') !== 'false',
    assignIpv6: flag(ipam.assign_ipv6, 'ipam.assign_ipv6', 'false') === 'true',
    ipv4Pools: read.optionalStrings(ipam.ipv4_pools, 'ipam.ipv4_pools') ?? [],
    ipv6Pools: read.optionalStrings(ipam.ipv6_pools, 'ipam.ipv6_pools') ?? [],
    lockFile:
      read.optionalString(netConf.ipam_lock_file, 'ipam_lock_file') ?? DEFAULT_IPAM_LOCK_FILE,
  };
}

function flag(value: unknown, path: string, absent: string): string {
  if (value === undefined) return absent;
  if (typeof value === 'boolean') return String(value);
  return read.string(value, path);
}
