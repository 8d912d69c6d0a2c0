import { ipAtOrdinal, ordinalOf } from './block-geometry';
import { blockCidr, type AllocationAttribute, type BlockState } from './block-state';
import {
  AddressInUseError,
  AddressReservedError,
  InconsistentBlockError,
  OutOfRangeError,
} from './errors';
import { formatIp, parseIp, type IpAddress } from './ip-address';

// Allocation inside one block (§8.4, §8.5). Pure: the caller persists the returned block with a
// compare-and-swap write and only then treats the addresses as its own (§15: compute, persist,
// then update auxiliary state).

/** Who the addresses are for: one attribute entry shared by every address of one call. */
export interface AssignOwner {
  /** The handle (`<network>.<containerID>`, §8.1); null for an allocation without a handle. */
  readonly handleId: string | null;
  /** Secondary attributes: `node`, `timestamp`, `namespace`, `pod` where known (§7.4). */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Ordinals covered by an IPReservation: never handed out, left in the free queue (§8.7). */
  readonly reservedOrdinals?: ReadonlySet<number>;
}

/** Options of assignFromBlock. */
export interface AssignOptions extends AssignOwner {
  /** How many addresses to take (positive integer); fewer are returned when the block runs out. */
  readonly count: number;
}

/** The updated block and what was taken from it, in allocation order. */
export interface AssignResult {
  readonly block: BlockState;
  readonly ordinals: readonly number[];
  readonly addresses: readonly IpAddress[];
}

function sameSecondary(
  a: Readonly<Record<string, string>> | null | undefined,
  b: Readonly<Record<string, string>> | null | undefined,
): boolean {
  const left = Object.entries(a ?? {});
  const right = b ?? {};
  return (
    left.length === Object.keys(right).length &&
    left.every(([k, v]) => Object.hasOwn(right, k) && right[k] === v)
  );
}

// Calico reuses an entry only when handle and secondary attributes are equal (§8.4). Entries that
// carry unmodelled fields (HEAD's releasedAt markers) are never shared.
function attributeIndexFor(
  attributes: readonly AllocationAttribute[],
  owner: AssignOwner,
): { index: number; attributes: readonly AllocationAttribute[] } {
  const index = attributes.findIndex(
    (a) =>
      (a.handle_id ?? null) === owner.handleId &&
      sameSecondary(a.secondary, owner.attributes) &&
      Object.keys(a.extra ?? {}).length === 0,
  );
  if (index >= 0) return { index, attributes };
  const entry: AllocationAttribute = {
    handle_id: owner.handleId,
    secondary: owner.attributes === undefined ? null : { ...owner.attributes },
  };
  return { index: attributes.length, attributes: [...attributes, entry] };
}

function commit(block: BlockState, ordinals: readonly number[], owner: AssignOwner): AssignResult {
  const cidr = blockCidr(block);
  const { index, attributes } = attributeIndexFor(block.attributes, owner);
  const allocations = [...block.allocations];
  const taken = new Set(ordinals);
  const sequenceNumberForAllocation = { ...block.sequenceNumberForAllocation };
  for (const ordinal of ordinals) {
    // Never hand out an address that is still allocated (§12 item 2), even from a corrupt block.
    if (allocations[ordinal] !== null) {
      throw new InconsistentBlockError(
        `block ${block.cidr} is inconsistent: ordinal ${ordinal} is free-listed but allocated`,
      );
    }
    allocations[ordinal] = index;
    // Calico records the sequence number read with the block; the write then bumps it (§7.4).
    sequenceNumberForAllocation[String(ordinal)] = block.sequenceNumber;
  }
  return {
    block: {
      ...block,
      allocations,
      unallocated: block.unallocated.filter((o) => !taken.has(o)),
      attributes,
      sequenceNumber: block.sequenceNumber + 1n,
      sequenceNumberForAllocation,
    },
    ordinals,
    addresses: ordinals.map((o) => ipAtOrdinal(cidr, o)),
  };
}

/**
 * Takes up to `count` addresses from the head of the free queue, skipping reserved ordinals
 * (which stay queued). Returns the input block unchanged and no ordinals when nothing is free.
 */
export function assignFromBlock(block: BlockState, options: AssignOptions): AssignResult {
  if (!Number.isInteger(options.count) || options.count < 1) {
    throw new OutOfRangeError(`address count ${options.count} must be a positive integer`);
  }
  const reserved = options.reservedOrdinals;
  const ordinals: number[] = [];
  for (const ordinal of block.unallocated) {
    if (ordinals.length === options.count) break;
    if (reserved?.has(ordinal) !== true) ordinals.push(ordinal);
  }
  if (ordinals.length === 0) return { block, ordinals, addresses: [] };
  return commit(block, ordinals, options);
}

/** Assigns one given address (§8.5); it must be free and, if reservations are given, not reserved. */
export function assignSpecific(
  block: BlockState,
  ip: IpAddress | string,
  options: AssignOwner,
): AssignResult {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  const ordinal = ordinalOf(blockCidr(block), address);
  const where = `(ip ${formatIp(address)}, block ${block.cidr})`;
  const current = block.allocations[ordinal];
  if (current === undefined || (current === null && !block.unallocated.includes(ordinal))) {
    throw new InconsistentBlockError(
      `block ${block.cidr} is inconsistent: ordinal ${ordinal} is neither allocated nor free`,
    );
  }
  if (current !== null) {
    throw new AddressInUseError(`Address already assigned in block ${where}`);
  }
  if (options.reservedOrdinals?.has(ordinal) === true) {
    throw new AddressReservedError(`Address is reserved by an IPReservation ${where}`);
  }
  return commit(block, [ordinal], options);
}
