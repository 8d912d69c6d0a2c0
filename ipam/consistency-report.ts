// The typed answer of `ipam check` (consistency-check.ts): what was looked at, what is broken,
// and which allocations are leaks. Every entry carries a sentence that names the keys involved.

/** Which invariant a problem breaks. */
export type ProblemKind =
  /** A stored value that does not parse: nothing else can be said about that key. */
  | 'unreadable'
  /** A block breaking its own invariant (ipam/core checkBlock): each ordinal free or allocated once. */
  | 'block'
  /** A handle's count for a block differs from the addresses that block holds for it. */
  | 'handle-count'
  /** Addresses allocated to a handle that does not exist, or to no handle at all. */
  | 'missing-handle'
  /** A handle that counts no address (Calico deletes a handle when its count reaches zero). */
  | 'empty-handle'
  /** A block affinity whose block is missing or affine elsewhere, or the reverse. */
  | 'affinity'
  /** One address allocated twice (overlapping blocks) or claimed by two WorkloadEndpoints. */
  | 'duplicate-address'
  /** A WorkloadEndpoint using an address that its block has free: the next ADD may take it. */
  | 'unallocated-endpoint-address';

/** One broken invariant. */
export interface Problem {
  kind: ProblemKind;
  /** The etcd key the problem is about (the first one when it involves several). */
  key: string;
  message: string;
}

/** One allocated address as the check read it. */
export interface AllocationRef {
  ip: string;
  /** The block CIDR, e.g. `10.0.0.64/26`. */
  block: string;
  ordinal: number;
  handleId: string;
  /** The `node` attribute: where the ADD ran. */
  node: string | undefined;
  /** Milliseconds since the `timestamp` attribute; undefined when absent or unreadable. */
  ageMs: number | undefined;
}

/** An address held for a workload that provably no longer has an endpoint. */
export interface Leak extends AllocationRef {
  /** Addresses the handle holds in all blocks: a repair releases the handle only if all leak. */
  handleAddresses: number;
  message: string;
}

/** An address without endpoint whose network is not shown to be served by the calico plugin. */
export interface UnverifiedAllocation extends AllocationRef {
  message: string;
}

/** The result of one consistency check. */
export interface ConsistencyReport {
  /** The etcd revision every key was read at. */
  revision: number;
  checked: {
    blocks: number;
    allocations: number;
    handles: number;
    affinities: number;
    endpoints: number;
  };
  problems: Problem[];
  leaks: Leak[];
  /**
   * Allocations with no WorkloadEndpoint in a network where no endpoint proves that calico is
   * the main plugin: calico-ipam under another main plugin (bridge, ptp) never writes endpoints,
   * so these are not called leaks unless the caller names the network in `networks`.
   */
  unverified: UnverifiedAllocation[];
  /** Allocations without endpoint younger than the grace period: ADDs possibly in flight. */
  inGrace: number;
  /** Allocations with a `type` attribute (tunnel addresses): a node's, not a workload's. */
  nonWorkload: number;
}

/** True when the report shows neither a broken invariant nor a leak. */
export function isClean(report: ConsistencyReport): boolean {
  return report.problems.length === 0 && report.leaks.length === 0;
}
