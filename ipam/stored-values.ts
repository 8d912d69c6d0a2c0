import type { JsonObject } from '../lib/cni/json-fields';
import type { AllocationBlock } from '../lib/datastore/calico/block';
import type { IpamHandle } from '../lib/datastore/calico/handle';
import type { BlockState, HandleState } from './core';

// ipam/core works on plain values named like the wire JSON; lib/datastore reads and writes the
// exact stored JSON. These two mappings join them without losing what neither models: fields a
// newer Calico stored travel in `extra` and are written back.

const BLOCK_FIELDS = [
  'cidr',
  'affinity',
  'allocations',
  'unallocated',
  'attributes',
  'sequenceNumber',
  'sequenceNumberForAllocation',
] as const;

/** The allocator's view of a stored block. */
export function blockFromStored(stored: AllocationBlock): BlockState {
  return {
    cidr: stored.cidr,
    affinity: stored.affinity,
    allocations: stored.allocations,
    unallocated: stored.unallocated,
    attributes: stored.attributes.map((a) => ({
      handle_id: a.handleId,
      secondary: a.secondary,
      ...nonEmpty(omit(a.raw, ['handle_id', 'secondary'])),
    })),
    sequenceNumber: stored.sequenceNumber,
    sequenceNumberForAllocation: stored.sequenceNumberForAllocation ?? {},
    // `deleted` and anything newer: kept verbatim.
    extra: omit(stored.raw, BLOCK_FIELDS),
  };
}

/** The stored form of an allocator block, Go's field order first, unknown fields after. */
export function blockToStored(block: BlockState): AllocationBlock {
  return {
    cidr: block.cidr,
    affinity: block.affinity,
    allocations: [...block.allocations],
    unallocated: [...block.unallocated],
    attributes: block.attributes.map((a) => ({
      handleId: a.handle_id ?? null,
      secondary: a.secondary === undefined || a.secondary === null ? null : { ...a.secondary },
      ...(a.extra === undefined ? {} : { raw: { handle_id: null, secondary: null, ...a.extra } }),
    })),
    sequenceNumber: block.sequenceNumber,
    sequenceNumberForAllocation: { ...block.sequenceNumberForAllocation },
    deleted: block.extra.deleted === true,
    raw: {
      ...Object.fromEntries(BLOCK_FIELDS.map((f) => [f, null])),
      deleted: false,
      ...block.extra,
    },
  };
}

/** The allocator's view of a stored handle. */
export function handleFromStored(stored: IpamHandle): HandleState {
  return { block: stored.block, ...nonEmpty(omit(stored.raw, ['block'])) };
}

/** The stored form of a handle. */
export function handleToStored(id: string, handle: HandleState): IpamHandle {
  const extra = handle.extra ?? {};
  return {
    handleId: id,
    block: { ...handle.block },
    deleted: extra.deleted === true,
    raw: { block: null, deleted: false, ...extra },
  };
}

function omit(raw: JsonObject | undefined, fields: readonly string[]): Record<string, unknown> {
  if (raw === undefined) return {};
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !fields.includes(key)));
}

function nonEmpty(extra: Record<string, unknown>): { extra?: Record<string, unknown> } {
  return Object.keys(extra).length === 0 ? {} : { extra };
}
