import { goUtcTimeString } from '../core';
import type { IpamSnapshot } from '../ipam-snapshot';

// Calico's IPAM keys and WorkloadEndpoints written by hand, value by value, so that the
// consistency check is tested against broken states no allocator would produce. The same state
// feeds the unit tests (as a snapshot) and the etcd tests (as raw puts).

/** One allocated ordinal of a raw block. */
export interface RawAllocation {
  ordinal: number;
  /** null writes an attribute with `handle_id: null`. */
  handle: string | null;
  node?: string;
  /** Unix milliseconds of the `timestamp` attribute; absent leaves it out. */
  at?: number;
  secondary?: Record<string, string>;
}

/** A /26 IPv4 block's geometry: `10.0.0.64/26` ordinal 5 is `10.0.0.69`. */
function ipOf(cidr: string, ordinal: number): string {
  const [base = '', prefix] = cidr.split('/');
  if (prefix === undefined || base.includes(':')) throw new Error(`test helper: IPv4 only`);
  const value = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + ordinal;
  return [24, 16, 8, 0].map((s) => String(Math.floor(value / 2 ** s) % 256)).join('.');
}

/** Builds raw keys; `pod` writes a healthy workload (allocation, handle, endpoint) at once. */
export class RawIpamState {
  readonly values = new Map<string, string>();
  private readonly blocks = new Map<
    string,
    { affinity: string | null; allocations: RawAllocation[] }
  >();

  /** A block with these allocations (each with its own attribute entry). */
  block(cidr: string, options: { affinity?: string | null; allocations?: RawAllocation[] }): this {
    this.blocks.set(cidr, {
      affinity: options.affinity ?? null,
      allocations: options.allocations ?? [],
    });
    return this;
  }

  /** Adds an allocation to a block made before (the block keeps its affinity). */
  allocate(cidr: string, allocation: RawAllocation): this {
    const block = this.blocks.get(cidr);
    if (block === undefined) throw new Error(`test helper: no block ${cidr}`);
    block.allocations.push(allocation);
    return this;
  }

  /** The handle value `{"block":{…},"deleted":false}`. */
  handle(id: string, counts: Record<string, number>): this {
    this.values.set(
      `/calico/ipam/v2/handle/${id}`,
      JSON.stringify({ block: counts, deleted: false }),
    );
    return this;
  }

  /** A block affinity (and the host key Calico writes beside it). */
  affinity(host: string, cidr: string, state = 'confirmed'): this {
    this.values.set(`/calico/ipam/v2/host/${host}`, '{}');
    this.values.set(
      `/calico/ipam/v2/host/${host}/ipv4/block/${cidr.replace('/', '-')}`,
      JSON.stringify({ state, deleted: false }),
    );
    return this;
  }

  /** A cni WorkloadEndpoint as the calico plugin writes it. */
  endpoint(options: { node: string; containerId: string; ips: string[]; name?: string }): this {
    const name = options.name ?? `${options.node}-cni-${options.containerId}-eth0`;
    this.values.set(
      `/calico/resources/v3/projectcalico.org/workloadendpoints/default/${name}`,
      JSON.stringify({
        kind: 'WorkloadEndpoint',
        apiVersion: 'projectcalico.org/v3',
        metadata: { name, namespace: 'default' },
        spec: {
          orchestrator: 'cni',
          node: options.node,
          containerID: options.containerId,
          endpoint: 'eth0',
          ipNetworks: options.ips.map((ip) => `${ip}/32`),
          profiles: ['net1'],
          interfaceName: `cali${options.containerId.slice(0, 11)}`,
        },
      }),
    );
    return this;
  }

  /** A healthy pod of network `net1`: allocation, handle `net1.<id>` and endpoint. */
  pod(options: { cidr: string; ordinal: number; containerId: string; node: string; at: number }) {
    const handle = `net1.${options.containerId}`;
    this.allocate(options.cidr, { ...options, handle });
    const held = this.blocks.get(options.cidr)?.allocations.filter((a) => a.handle === handle);
    this.handle(handle, { [options.cidr]: held?.length ?? 1 });
    return this.endpoint({ ...options, ips: [ipOf(options.cidr, options.ordinal)] });
  }

  /** Every key and its value, blocks rendered last. */
  entries(): [string, string][] {
    const blocks = [...this.blocks].map(([cidr, b]): [string, string] => [
      `/calico/ipam/v2/assignment/ipv4/block/${cidr.replace('/', '-')}`,
      rawBlock(cidr, b),
    ]);
    return [...this.values, ...blocks];
  }

  /** The snapshot the check would read, as if from etcd at `revision`. */
  snapshot(revision = 100): IpamSnapshot {
    const kv = ([key, value]: [string, string]) => ({
      key,
      value,
      createRevision: 1,
      modRevision: 1,
      version: 1,
    });
    const under = (prefix: string) =>
      this.entries()
        .filter(([k]) => k.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(kv);
    return {
      revision,
      blocks: under('/calico/ipam/v2/assignment/'),
      handles: under('/calico/ipam/v2/handle/'),
      hosts: under('/calico/ipam/v2/host/'),
      endpoints: under('/calico/resources/v3/projectcalico.org/workloadendpoints/'),
    };
  }
}

/** IPv4 address of `ordinal` in a raw block (for assertions). */
export const rawIp = ipOf;

function rawBlock(
  cidr: string,
  options: { affinity: string | null; allocations: RawAllocation[] },
): string {
  const size = 2 ** (32 - Number(cidr.split('/')[1]));
  const allocations: (number | null)[] = new Array<null>(size).fill(null);
  const attributes = options.allocations.map((a, i) => {
    allocations[a.ordinal] = i;
    const secondary: Record<string, string> = { ...(a.secondary ?? {}) };
    if (a.node !== undefined) secondary.node = a.node;
    if (a.at !== undefined) secondary.timestamp = goUtcTimeString(BigInt(a.at) * 1_000_000n);
    return { handle_id: a.handle, secondary };
  });
  const unallocated = allocations.flatMap((a, i) => (a === null ? [i] : []));
  return JSON.stringify({
    cidr,
    affinity: options.affinity,
    allocations,
    unallocated,
    attributes,
    sequenceNumber: 1,
    sequenceNumberForAllocation: {},
    deleted: false,
  });
}
