import { ordinalOf } from './block-geometry';
import { blockCidr, type BlockState } from './block-state';
import { parseIp, type IpAddress } from './ip-address';

// Read-only questions the allocator asks of a block: "has it room" on the hot path (§8.2 4a),
// "is it empty" before deleting a non-affine block (§8.6), "what does this handle hold".

/** Free addresses that may be handed out: the free queue minus reserved ordinals (§8.7). */
export function freeCount(
  block: BlockState,
  options: { reservedOrdinals?: ReadonlySet<number> } = {},
): number {
  const reserved = options.reservedOrdinals;
  if (reserved === undefined || reserved.size === 0) return block.unallocated.length;
  let count = 0;
  for (const ordinal of block.unallocated) if (!reserved.has(ordinal)) count++;
  return count;
}

/** True when no address is allocated; reserved addresses are free, not allocated. */
export function isBlockEmpty(block: BlockState): boolean {
  return block.allocations.every((index) => index === null);
}

/** Ordinals held by `handleId`, ascending. */
export function ordinalsOfHandle(block: BlockState, handleId: string): number[] {
  const ordinals: number[] = [];
  for (const [ordinal, index] of block.allocations.entries()) {
    if (index !== null && block.attributes[index]?.handle_id === handleId) ordinals.push(ordinal);
  }
  return ordinals;
}

/** Address count per handle (null = no handle); what the handle values should say (`ipam check`). */
export function countsByHandle(block: BlockState): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const index of block.allocations) {
    if (index === null) continue;
    const handle = block.attributes[index]?.handle_id ?? null;
    counts.set(handle, (counts.get(handle) ?? 0) + 1);
  }
  return counts;
}

/** Who holds one address of the block. */
export interface AllocationInfo {
  readonly ordinal: number;
  readonly handleId: string | null;
  readonly secondary: Readonly<Record<string, string>> | null;
  /** The block sequence number recorded at allocation, for a guarded release; null if absent. */
  readonly sequenceNumber: bigint | null;
}

/** The holder of `ip`, or null when the address is free; throws if `ip` is not in the block. */
export function allocationOf(block: BlockState, ip: IpAddress | string): AllocationInfo | null {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  const ordinal = ordinalOf(blockCidr(block), address);
  const index = block.allocations[ordinal];
  if (index === null || index === undefined) return null;
  const attribute = block.attributes[index];
  return {
    ordinal,
    handleId: attribute?.handle_id ?? null,
    secondary: attribute?.secondary ?? null,
    sequenceNumber: block.sequenceNumberForAllocation[String(ordinal)] ?? null,
  };
}
