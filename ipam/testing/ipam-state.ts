import type { Kv } from '../../lib/datastore/kv';
import { rawJson } from './ipam-binary';

// What etcd holds of IPAM, read raw in Calico's key layout: for tests that must prove a fault lost
// or leaked nothing.

const BLOCKS = '/calico/ipam/v2/assignment/';
const HANDLES = '/calico/ipam/v2/handle/';

/** Allocated addresses (IPv4 only: `a.b.c.d`) by handle, and each handle's stored count. */
export interface IpamState {
  /** Every allocated address with the handle its block attributes name. */
  allocations: { address: string; handle: string }[];
  /** Handle ID → the total of its per-block counts. */
  handles: Map<string, number>;
}

/** Reads every block and handle. */
export async function readIpamState(kv: Kv): Promise<IpamState> {
  const allocations: IpamState['allocations'] = [];
  for (const block of (await rawJson(kv, BLOCKS)).values()) {
    const [base = '', prefix] = String(block.cidr).split('/');
    const octets = base.split('.').map(Number);
    const start = (((octets[0] ?? 0) * 256 + (octets[1] ?? 0)) * 256 + (octets[2] ?? 0)) * 256;
    const attrs = block.attributes as { handle_id: string | null }[];
    (block.allocations as (number | null)[]).forEach((a, ordinal) => {
      if (a === null || prefix === undefined) return;
      const n = start + (octets[3] ?? 0) + ordinal;
      const address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      allocations.push({ address, handle: attrs[a]?.handle_id ?? '(none)' });
    });
  }
  const handles = new Map<string, number>();
  for (const [key, handle] of await rawJson(kv, HANDLES)) {
    const counts = Object.values(handle.block as Record<string, number>);
    handles.set(
      key.slice(HANDLES.length),
      counts.reduce((x, y) => x + y, 0),
    );
  }
  return { allocations, handles };
}

/** Handle ID → how many addresses the blocks hold for it (to compare with `handles`). */
export function allocationsByHandle(state: IpamState): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of state.allocations) counts.set(a.handle, (counts.get(a.handle) ?? 0) + 1);
  return counts;
}
