import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIp, ipAtOrdinal, parseNetwork } from '../ipam/core';
import { isObject } from './stdout';

// What an IPAM plugin holds, read from its own store rather than from what it printed: host-local's
// files in its dataDir (contract §13.3) or Calico's blocks in etcd (calico-behaviour.md §7.4).

/** One allocated address and who holds it, as the store records it. */
export interface Allocation {
  readonly ip: string;
  /** The container the store names, when it names one. */
  readonly containerId: string | undefined;
  /** The interface the store names (host-local does; Calico's handle does not). */
  readonly ifname: string | undefined;
}

/** host-local's default dataDir. */
const HOST_LOCAL_DATA_DIR = '/var/lib/cni/networks';

/** A host-local file's content: `<containerID>\r\n<ifname>` (v0.7+) or just the container ID. */
export function parseHostLocalFile(ip: string, content: string): Allocation {
  const [containerId = '', ifname] = content.split(/\r?\n/);
  return { ip, containerId: containerId.trim(), ifname: ifname?.trim() };
}

/** Files of a host-local network directory that are not allocations. */
function isBookkeeping(name: string): boolean {
  return name === 'lock' || name.startsWith('last_reserved_ip');
}

/** Allocations host-local holds for `conf` (network `conf.name` in `conf.ipam.dataDir`). */
export function hostLocalAllocations(conf: Record<string, unknown>): Allocation[] {
  const ipam = isObject(conf.ipam) ? conf.ipam : {};
  const dataDir = typeof ipam.dataDir === 'string' ? ipam.dataDir : HOST_LOCAL_DATA_DIR;
  const dir = join(dataDir, String(conf.name));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => !isBookkeeping(n))
    .map((n) => parseHostLocalFile(n, readFileSync(join(dir, n), 'utf8')));
}

/**
 * Allocations in one Calico block value: ordinal i of `allocations` holds attribute index a, whose
 * `handle_id` is `<network>.<containerID>` for CNI workloads (calico-behaviour.md §7.5).
 */
export function calicoBlockAllocations(block: unknown, network: string): Allocation[] {
  if (!isObject(block) || typeof block.cidr !== 'string' || !Array.isArray(block.allocations)) {
    return [];
  }
  const cidr = parseNetwork(block.cidr);
  const attributes = Array.isArray(block.attributes) ? (block.attributes as unknown[]) : [];
  return (block.allocations as unknown[]).flatMap((a, ordinal) => {
    if (typeof a !== 'number') return [];
    const attr = attributes[a];
    const handle = isObject(attr) && typeof attr.handle_id === 'string' ? attr.handle_id : '';
    const prefix = `${network}.`;
    return [
      {
        ip: formatIp(ipAtOrdinal(cidr, ordinal)),
        containerId: handle.startsWith(prefix) ? handle.slice(prefix.length) : undefined,
        ifname: undefined,
      },
    ];
  });
}

/** `ip (container/ifname)` list for reasons. */
export function describeAllocations(list: readonly Allocation[]): string {
  if (list.length === 0) return 'none';
  return list
    .map((a) => `${a.ip} (${a.containerId ?? '?'}${a.ifname === undefined ? '' : `/${a.ifname}`})`)
    .join(', ');
}
