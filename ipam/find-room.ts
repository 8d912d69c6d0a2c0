import type { Attempt } from './attempt';
import type { IpamSettings } from './block-store';
import { findBorrowable, findClaimable } from './claim';
import {
  affinityNode,
  blockCidr,
  cidrContainsCidr,
  freeCount,
  parseNetwork,
  reservedOrdinals,
  type BlockState,
  type Cidr,
  type IpFamily,
} from './core';
import type { UsablePool } from './pools';

/** Upstream's default per-host block limit when the IPAM config sets none (§8.2). */
export const DEFAULT_MAX_BLOCKS_PER_HOST = 20;

/** Where a free address is: in our own block, in a block to claim, or borrowed. */
export type Room =
  | { readonly kind: 'affine'; readonly block: BlockState }
  | { readonly kind: 'claim'; readonly block: BlockState; readonly cidr: string }
  | { readonly kind: 'borrow'; readonly block: BlockState };

/** Why there is no room, for the exhaustion message. */
export interface NoRoom {
  readonly kind: 'none';
  readonly atLimit: boolean;
  readonly limit: number;
}

/** What a search needs beyond the attempt. */
export interface RoomSearch {
  family: IpFamily;
  pools: readonly UsablePool[];
  node: string;
  reserved: readonly Cidr[];
  /** A new block affine to this node (its sequence number comes from the caller's clock). */
  newBlock: (cidr: Cidr) => BlockState;
  random: () => number;
}

/**
 * Calico's search order (calico-behaviour.md §8.2): this node's affine blocks, then a block to
 * claim while under the per-host limit, then (strict affinity off) someone else's block. Unlike
 * upstream, reaching the block limit still borrows when strict affinity is off (calico#4861).
 */
export async function findRoom(attempt: Attempt, search: RoomSearch): Promise<Room | NoRoom> {
  const settings: IpamSettings = attempt.view.settings;
  const affine = affineCidrs(attempt, search);
  for (const cidr of affine) {
    const existing = attempt.block(cidr);
    // A block owned by someone else despite our affinity key is stale: leave it alone. A missing
    // one (affinity written, block not: a crash under a two-phase writer) is created again.
    if (existing !== null && affinityNode(existing) !== search.node) continue;
    const block = existing ?? search.newBlock(parseNetwork(cidr, { what: 'block' }));
    if (hasRoom(block, search.reserved)) return { kind: 'affine', block };
  }
  const limit =
    settings.maxBlocksPerHost > 0 ? settings.maxBlocksPerHost : DEFAULT_MAX_BLOCKS_PER_HOST;
  const atLimit = affine.length >= limit;
  if (!atLimit && settings.autoAllocateBlocks) {
    const claim = await findClaimable(attempt, search);
    if (claim !== null) {
      const block = claim.existing ?? search.newBlock(parseNetwork(claim.cidr, { what: 'block' }));
      if (hasRoom(block, search.reserved)) return { kind: 'claim', block, cidr: claim.cidr };
    }
  }
  if (!settings.strictAffinity) {
    const borrowed = await findBorrowable(attempt, search);
    if (borrowed !== null) return { kind: 'borrow', block: borrowed.block };
  }
  return { kind: 'none', atLimit, limit };
}

/** This node's block CIDRs of the family inside the usable pools, in key order. */
function affineCidrs(attempt: Attempt, search: RoomSearch): string[] {
  return attempt.view.affinities
    .map((a) => a.value.cidr)
    .filter((cidr) => {
      const block = parseNetwork(cidr, { what: 'affinity block' });
      return (
        block.family === search.family &&
        search.pools.some(
          (p) => block.prefix === p.spec.blockSize && cidrContainsCidr(p.cidr, block),
        )
      );
    });
}

function hasRoom(block: BlockState, reserved: readonly Cidr[]): boolean {
  return freeCount(block, { reservedOrdinals: reservedOrdinals(blockCidr(block), reserved) }) > 0;
}
