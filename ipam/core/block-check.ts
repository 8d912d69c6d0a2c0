import { blockAddressCount } from './block-geometry';
import { blockCidr, type BlockState } from './block-state';
import { IpamCoreError } from './errors';

// The invariant every block must keep: each ordinal is either allocated (an index into
// `attributes`) or queued in `unallocated`, exactly once. A block that breaks it can hand out a
// duplicate IP (§12 item 2), so the property tests assert it after every step and `ipam check`
// reports it for blocks read from etcd.

const ORDINAL_KEY = /^(0|[1-9]\d*)$/;

function checkAllocations(block: BlockState, size: number, problems: string[]): Set<number> {
  const referenced = new Set<number>();
  if (block.allocations.length !== size) {
    problems.push(`allocations has ${block.allocations.length} entries, expected ${size}`);
  }
  for (const [ordinal, index] of block.allocations.entries()) {
    if (index === null) continue;
    if (!Number.isInteger(index) || index < 0 || index >= block.attributes.length) {
      problems.push(`ordinal ${ordinal} points at attribute ${index}, which does not exist`);
    } else {
      referenced.add(index);
    }
  }
  return referenced;
}

function checkFreeQueue(block: BlockState, size: number, problems: string[]): void {
  const queued = new Set<number>();
  for (const ordinal of block.unallocated) {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= size) {
      problems.push(`unallocated holds ${ordinal}, outside 0–${size - 1}`);
    } else if (queued.has(ordinal)) {
      problems.push(`ordinal ${ordinal} is in unallocated more than once`);
    } else if (block.allocations[ordinal] !== null) {
      problems.push(`ordinal ${ordinal} is in unallocated but allocated`);
    }
    queued.add(ordinal);
  }
  for (const [ordinal, index] of block.allocations.entries()) {
    if (index === null && !queued.has(ordinal)) {
      problems.push(`ordinal ${ordinal} is neither allocated nor in unallocated`);
    }
  }
}

function checkSequenceNumbers(block: BlockState, problems: string[]): void {
  for (const key of Object.keys(block.sequenceNumberForAllocation)) {
    const index = ORDINAL_KEY.test(key) ? block.allocations[Number(key)] : undefined;
    if (index === undefined || index === null) {
      problems.push(`sequenceNumberForAllocation has ${key}, which is not an allocated ordinal`);
    }
  }
}

/** Every inconsistency of the block as a sentence; an empty list means consistent. */
export function checkBlock(block: BlockState): string[] {
  let size: number;
  try {
    size = blockAddressCount(blockCidr(block));
  } catch (err) {
    if (err instanceof IpamCoreError) return [err.message];
    throw err;
  }
  const problems: string[] = [];
  const referenced = checkAllocations(block, size, problems);
  checkFreeQueue(block, size, problems);
  for (const index of block.attributes.keys()) {
    if (!referenced.has(index)) problems.push(`attribute ${index} is not used by any allocation`);
  }
  checkSequenceNumbers(block, problems);
  return problems;
}
