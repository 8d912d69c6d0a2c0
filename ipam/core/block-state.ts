import { BLOCK_SIZE_LIMITS, blockAddressCount, isValidBlockSize } from './block-geometry';
import { formatCidr, parseNetwork, type Cidr } from './cidr';
import { InvalidBlockSizeError } from './errors';
import { familyName } from './ip-address';

// The AllocationBlock value of §7.4, field for field, so that lib/datastore maps JSON to it and
// back without renaming (`handle_id` beside `sequenceNumber` is upstream's mixed wire naming).
// Fields we do not model (`deleted`, `hostAffinity`, `affinity_claim_time`, `strictAffinity`,
// anything newer) live in `extra` and must be written back unchanged.
//
// sequenceNumber is a bigint: Calico initialises it to UnixNano (≈1.7e18 > 2^53), so a JS number
// would round it and break the compare in sequence-guarded releases. The datastore must therefore
// parse and print these two fields losslessly (plain JSON.parse rounds them).

/** One entry of `attributes`: who holds the addresses that point at it (§7.4). */
export interface AllocationAttribute {
  readonly handle_id?: string | null;
  /** `node`, `timestamp`, and for k8s `pod` and `namespace` (§7.4). */
  readonly secondary?: Readonly<Record<string, string>> | null;
  /** Unmodelled attribute fields (HEAD `releasedAt`, `alternateOwnerAttrs`), kept verbatim. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** An AllocationBlock value (§7.4). Functions in ipam/core return new values, never mutate. */
export interface BlockState {
  /** Canonical block CIDR text, e.g. `10.0.0.64/26`. */
  readonly cidr: string;
  /** `host:<node>` for an affine block, null when unowned. */
  readonly affinity: string | null;
  /** One entry per ordinal: null = free, else an index into `attributes`. */
  readonly allocations: readonly (number | null)[];
  /** Free ordinals as a FIFO queue: allocation takes from the head, release appends (§8.4). */
  readonly unallocated: readonly number[];
  readonly attributes: readonly AllocationAttribute[];
  /** Bumped on every update; starts at the creation time in UnixNano (§7.4, v3.23+). */
  readonly sequenceNumber: bigint;
  /** Ordinal (decimal string) → block sequenceNumber when it was allocated. */
  readonly sequenceNumberForAllocation: Readonly<Record<string, bigint>>;
  /** Unmodelled top-level fields, kept verbatim. */
  readonly extra: Readonly<Record<string, unknown>>;
}

const HOST_PREFIX = 'host:';

/** The affinity string of a block owned by `node`: `host:<node>`. */
export function hostAffinity(node: string): string {
  return `${HOST_PREFIX}${node}`;
}

/** The node a block is affine to, or null for no affinity or a non-host (e.g. `virtual:`) one. */
export function affinityNode(block: BlockState): string | null {
  const { affinity } = block;
  return affinity?.startsWith(HOST_PREFIX) === true ? affinity.slice(HOST_PREFIX.length) : null;
}

/** Parses the block's CIDR, which must be a network with a valid block size. */
export function blockCidr(block: Pick<BlockState, 'cidr'>): Cidr {
  const cidr = parseNetwork(block.cidr, { what: 'block' });
  if (!isValidBlockSize(cidr.family, cidr.prefix)) {
    const { min, max } = BLOCK_SIZE_LIMITS[cidr.family];
    throw new InvalidBlockSizeError(
      `block ${block.cidr} has size /${cidr.prefix}, outside ${min}–${max} for ${familyName(cidr.family)}`,
    );
  }
  return cidr;
}

/**
 * A new block with every ordinal free in order 0..N−1, so the first address handed out is the
 * network address (§8.4: Calico uses .0 and .255 deliberately; §12 item 14).
 */
export function newBlock(
  cidr: Cidr,
  options: { affinityNode: string | null; sequenceNumber: bigint },
): BlockState {
  const text = formatCidr(cidr);
  const size = blockAddressCount(blockCidr({ cidr: text }));
  return {
    cidr: text,
    affinity: options.affinityNode === null ? null : hostAffinity(options.affinityNode),
    allocations: new Array<null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber: options.sequenceNumber,
    sequenceNumberForAllocation: {},
    extra: {},
  };
}
