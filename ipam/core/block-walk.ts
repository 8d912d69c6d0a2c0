import { blockCidrAt, type PoolGeometry } from './block-geometry';
import type { Cidr } from './cidr';
import { OutOfRangeError } from './errors';
import { fnv1a32 } from './fnv';

// §8.2 randomBlockGenerator: a per-node start index, then every block once, sequentially with
// wrap-around. A fixed per-node start keeps concurrent claims from different nodes apart (fewer
// CAS conflicts) while one node keeps packing the same region. The walk is computed, not listed:
// step k is block (start + k) mod count, so the allocator can read the first few candidates in
// O(1) each while the pool has room and only iterate far at exhaustion (§12 items 3 and 4).

/** The candidate blocks of one pool for one node, in walk order. */
export interface BlockWalk extends Iterable<Cidr> {
  /** Index of the first candidate block. */
  readonly start: bigint;
  /** Number of steps: every block of the pool, once. */
  readonly length: bigint;
  /** The block at `step` (0 = start); throws outside 0..length−1. */
  at(step: bigint | number): Cidr;
}

/** Start index of a node's walk: FNV-1a-32 of the node name modulo the block count. */
export function walkStartIndex(nodeName: string, blockCount: bigint): bigint {
  return BigInt(fnv1a32(nodeName)) % blockCount;
}

/**
 * The walk of a pool's blocks for a node. `startIndex` overrides the hashed start: Calico uses a
 * time-seeded random start for /32 and /128 blocks (§8.2), and the caller owns randomness here.
 */
export function blockWalk(
  geometry: PoolGeometry,
  options: { nodeName: string; startIndex?: bigint },
): BlockWalk {
  const length = geometry.blockCount;
  const start = options.startIndex ?? walkStartIndex(options.nodeName, length);
  if (start < 0n || start >= length) {
    throw new OutOfRangeError(`walk start ${start} is outside 0–${length - 1n}`);
  }
  const at = (step: bigint | number): Cidr => {
    const k = BigInt(step);
    if (k < 0n || k >= length) {
      throw new OutOfRangeError(`walk step ${k} is outside 0–${length - 1n}`);
    }
    return blockCidrAt(geometry, (start + k) % length);
  };
  return {
    start,
    length,
    at,
    *[Symbol.iterator]() {
      for (let k = 0n; k < length; k++) yield at(k);
    },
  };
}
