import { Attempt } from './attempt';
import {
  affinityNode,
  blockCidr,
  blockWalk,
  cidrContainsCidr,
  fnv1a32,
  formatCidr,
  freeCount,
  isBlockWhollyReserved,
  poolGeometry,
  reservedOrdinals,
  type BlockState,
  type Cidr,
} from './core';
import type { UsablePool } from './pools';

/** Candidates read per round trip while looking for an unclaimed block. */
const BATCH = 16;
/** Batches of point reads before falling back to one listing of every block (near exhaustion). */
const POINT_BATCHES = 3;

/** A block this host can take: a CIDR nobody has created yet, or its own block without affinity. */
export interface Claimable {
  readonly pool: UsablePool;
  readonly cidr: string;
  /** The existing block when it is already affine to us (its affinity key was lost). */
  readonly existing: BlockState | null;
}

/**
 * Finds a block to claim without reading the whole pool (libcalico-go#1236): walk the pool's
 * blocks from a start hashed from the node name, reading candidates in batches of point reads,
 * so a pool that is mostly free costs one round trip; only after a few full batches does it list
 * every block once and continue the walk over what it saw.
 */
export async function findClaimable(
  attempt: Attempt,
  options: {
    pools: readonly UsablePool[];
    node: string;
    reserved: readonly Cidr[];
    random: () => number;
  },
): Promise<Claimable | null> {
  for (const pool of options.pools) {
    const geometry = poolGeometry(pool.cidr, pool.spec.blockSize);
    // Calico seeds the walk randomly for /32 and /128 blocks: a hashed start would always collide.
    const single = pool.spec.blockSize === (pool.cidr.family === 4 ? 32 : 128);
    const startIndex = single ? randomIndex(geometry.blockCount, options.random) : undefined;
    const walk = blockWalk(geometry, {
      nodeName: options.node,
      ...(startIndex === undefined ? {} : { startIndex }),
    });
    const usable = (cidr: Cidr): boolean => !isBlockWhollyReserved(cidr, options.reserved);
    const pick = (cidr: Cidr): Claimable | null => {
      const text = formatCidr(cidr);
      const block = attempt.block(text);
      if (block === null) return { pool, cidr: text, existing: null };
      const ours = affinityNode(block) === options.node;
      const free = freeCount(block, { reservedOrdinals: reservedOrdinals(cidr, options.reserved) });
      return ours && free > 0 ? { pool, cidr: text, existing: block } : null;
    };
    let step = 0n;
    for (let batch = 0; batch < POINT_BATCHES && step < walk.length; batch++) {
      const candidates: Cidr[] = [];
      for (; step < walk.length && candidates.length < BATCH; step++) {
        const cidr = walk.at(step);
        if (usable(cidr)) candidates.push(cidr);
      }
      await attempt.fetch(candidates.map(formatCidr));
      for (const cidr of candidates) {
        const found = pick(cidr);
        if (found !== null) return found;
      }
    }
    if (step >= walk.length) continue;
    // Near exhaustion: one listing, then the rest of the walk in memory. The first unclaimed block
    // is at most (blocks that exist + 1) steps away; reserved blocks can add to that.
    const existing = await attempt.list(pool.cidr.family);
    const limit =
      step + BigInt(existing.length) + 1n + (options.reserved.length > 0 ? 65_536n : 0n);
    for (; step < walk.length && step < limit; step++) {
      const cidr = walk.at(step);
      if (!usable(cidr)) continue;
      const text = formatCidr(cidr);
      if (!attempt.known(text)) return { pool, cidr: text, existing: null };
      const found = pick(cidr);
      if (found !== null) return found;
    }
  }
  return null;
}

/** A block with room owned by anyone, for borrowing when no block can be claimed (§8.2 step 5). */
export async function findBorrowable(
  attempt: Attempt,
  options: { pools: readonly UsablePool[]; node: string; reserved: readonly Cidr[] },
): Promise<{ pool: UsablePool; block: BlockState } | null> {
  for (const pool of options.pools) {
    const blocks = (await attempt.list(pool.cidr.family))
      .map((b) => attempt.block(b.value.cidr))
      .filter((b): b is BlockState => b !== null && cidrContainsCidr(pool.cidr, blockCidr(b)));
    // Start at a node-dependent offset so that borrowers do not all pile onto one block.
    const offset = blocks.length === 0 ? 0 : fnv1a32(options.node) % blocks.length;
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[(offset + i) % blocks.length];
      if (block === undefined) continue;
      const reserved = reservedOrdinals(blockCidr(block), options.reserved);
      if (freeCount(block, { reservedOrdinals: reserved }) > 0) return { pool, block };
    }
  }
  return null;
}

function randomIndex(count: bigint, random: () => number): bigint {
  return count <= BigInt(Number.MAX_SAFE_INTEGER)
    ? BigInt(Math.floor(random() * Number(count)))
    : BigInt(Math.floor(random() * Number.MAX_SAFE_INTEGER)) % count;
}
