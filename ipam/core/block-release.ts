import type { AllocationAttribute, BlockState } from './block-state';
import { InconsistentBlockError, OutOfRangeError } from './errors';

// Release (§8.4, v3.20 behaviour): freed ordinals go to the TAIL of `unallocated`, so an address
// is reused only after every other free one has been handed out: a delay against new pods
// inheriting stale conntrack or policy state (§12 item 10). Attributes nobody points at any more
// are dropped and the allocation indexes rewritten, as Calico does.

/** The updated block and what was released. */
export interface ReleaseResult {
  readonly block: BlockState;
  /** Released ordinals, in the order they were appended to `unallocated`. */
  readonly released: readonly number[];
  /** How many addresses each handle (null = no handle) lost; feeds decrementHandle. */
  readonly releasedByHandle: ReadonlyMap<string | null, number>;
  /** Requested ordinals that were already free (idempotent DEL: not an error, §6). */
  readonly notAllocated: readonly number[];
  /** Ordinals skipped because their allocation sequence number did not match (§15). */
  readonly sequenceMismatch: readonly number[];
}

function compactAttributes(
  allocations: (number | null)[],
  attributes: readonly AllocationAttribute[],
): readonly AllocationAttribute[] {
  const used = new Set<number>();
  for (const index of allocations) if (index !== null) used.add(index);
  if (used.size === attributes.length) return attributes;
  const renumber = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  for (const [index, attribute] of attributes.entries()) {
    if (!used.has(index)) continue;
    renumber.set(index, kept.length);
    kept.push(attribute);
  }
  for (const [ordinal, index] of allocations.entries()) {
    if (index !== null) allocations[ordinal] = renumber.get(index) ?? index;
  }
  return kept;
}

function handleOf(block: BlockState, index: number): string | null {
  const attribute = block.attributes[index];
  if (attribute === undefined) {
    throw new InconsistentBlockError(
      `block ${block.cidr} is inconsistent: attribute index ${index} does not exist`,
    );
  }
  return attribute.handle_id ?? null;
}

/**
 * Frees the given ordinals (duplicates count once). With `expectedSequenceNumbers`, an ordinal
 * whose recorded allocation sequence number differs is skipped: it was re-allocated since the
 * caller looked, and releasing it would free someone else's address (§15, bad sequence number).
 */
export function releaseOrdinals(
  block: BlockState,
  ordinals: Iterable<number>,
  options: { expectedSequenceNumbers?: ReadonlyMap<number, bigint> } = {},
): ReleaseResult {
  const allocations = [...block.allocations];
  const recorded = block.sequenceNumberForAllocation;
  const released: number[] = [];
  const notAllocated: number[] = [];
  const sequenceMismatch: number[] = [];
  const releasedByHandle = new Map<string | null, number>();
  for (const ordinal of new Set(ordinals)) {
    const index = allocations[ordinal];
    if (!Number.isInteger(ordinal) || index === undefined) {
      throw new OutOfRangeError(`ordinal ${ordinal} is outside block ${block.cidr}`);
    }
    if (index === null) {
      notAllocated.push(ordinal);
      continue;
    }
    const expected = options.expectedSequenceNumbers?.get(ordinal);
    if (expected !== undefined && recorded[String(ordinal)] !== expected) {
      sequenceMismatch.push(ordinal);
      continue;
    }
    const handle = handleOf(block, index);
    releasedByHandle.set(handle, (releasedByHandle.get(handle) ?? 0) + 1);
    allocations[ordinal] = null;
    released.push(ordinal);
  }
  if (released.length === 0) {
    return { block, released, releasedByHandle, notAllocated, sequenceMismatch };
  }
  const attributes = compactAttributes(allocations, block.attributes);
  const freed = new Set(released.map(String));
  const sequenceNumberForAllocation = Object.fromEntries(
    Object.entries(recorded).filter(([ordinal]) => !freed.has(ordinal)),
  );
  return {
    block: {
      ...block,
      allocations,
      unallocated: [...block.unallocated, ...released],
      attributes,
      sequenceNumber: block.sequenceNumber + 1n,
      sequenceNumberForAllocation,
    },
    released,
    releasedByHandle,
    notAllocated,
    sequenceMismatch,
  };
}

/** Frees every address of the block held by `handleId`, in ordinal order (§8.6 ReleaseByHandle). */
export function releaseByHandle(block: BlockState, handleId: string): ReleaseResult {
  const ordinals: number[] = [];
  for (const [ordinal, index] of block.allocations.entries()) {
    if (index !== null && handleOf(block, index) === handleId) ordinals.push(ordinal);
  }
  return releaseOrdinals(block, ordinals);
}
