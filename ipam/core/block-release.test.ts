import { describe, expect, it } from 'vitest';
import { assignFromBlock, assignSpecific } from './block-assign';
import { checkBlock } from './block-check';
import { releaseByHandle, releaseOrdinals } from './block-release';
import { newBlock, type BlockState } from './block-state';
import { parseNetwork } from './cidr';
import { OutOfRangeError } from './errors';
import { deepFreeze } from './test-support';

const SEQ = 100n;

// Block 10.0.0.0/28 with a → 0,1 (attr 0), b → 2 (attr 1), c → 3,4 (attr 2).
function threeOwners(): BlockState {
  let block = newBlock(parseNetwork('10.0.0.0/28'), { affinityNode: 'n', sequenceNumber: SEQ });
  for (const [handleId, count] of [
    ['a', 2],
    ['b', 1],
    ['c', 2],
  ] as const) {
    block = assignFromBlock(block, { count, handleId, attributes: { pod: handleId } }).block;
  }
  return deepFreeze(block);
}

describe('releaseByHandle', () => {
  it('appends freed ordinals to the tail and counts them per handle', () => {
    const { block, released, releasedByHandle } = releaseByHandle(threeOwners(), 'a');
    expect(released).toEqual([0, 1]);
    expect([...releasedByHandle]).toEqual([['a', 2]]);
    expect(block.unallocated).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1]);
    expect(checkBlock(block)).toEqual([]);
  });

  it('drops the unused attribute and rewrites the indexes of the others', () => {
    const { block } = releaseByHandle(threeOwners(), 'b');
    expect(block.attributes.map((a) => a.handle_id)).toEqual(['a', 'c']);
    expect(block.allocations.slice(0, 5)).toEqual([0, 0, null, 1, 1]);
    expect(checkBlock(block)).toEqual([]);
  });

  it('bumps the sequence number and forgets the released ordinals’ allocation numbers', () => {
    const before = threeOwners();
    const { block } = releaseByHandle(before, 'c');
    expect(block.sequenceNumber).toBe(before.sequenceNumber + 1n);
    expect(Object.keys(block.sequenceNumberForAllocation).sort()).toEqual(['0', '1', '2']);
  });

  it('returns the same block when the handle holds nothing here', () => {
    const before = threeOwners();
    const result = releaseByHandle(before, 'nobody');
    expect(result.block).toBe(before);
    expect(result.released).toEqual([]);
    expect(result.releasedByHandle.size).toBe(0);
  });

  it('reuses released addresses only after the never-used ones (FIFO)', () => {
    let block = releaseByHandle(threeOwners(), 'a').block;
    const next = assignFromBlock(block, { count: 11, handleId: 'd' });
    expect(next.ordinals).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    block = next.block;
    expect(assignFromBlock(block, { count: 2, handleId: 'e' }).ordinals).toEqual([0, 1]);
  });

  it('releases the only address of a /32 and of a /128 block', () => {
    for (const cidr of ['10.0.0.9/32', 'fd00::9/128']) {
      const empty = newBlock(parseNetwork(cidr), { affinityNode: null, sequenceNumber: 0n });
      const held = assignFromBlock(empty, { count: 1, handleId: 'h' }).block;
      const { block } = releaseByHandle(deepFreeze(held), 'h');
      expect(block.allocations).toEqual([null]);
      expect(block.unallocated).toEqual([0]);
      expect(block.attributes).toEqual([]);
    }
  });
});

describe('releaseOrdinals', () => {
  it('frees each ordinal once, in the given order, across handles', () => {
    const { block, released, releasedByHandle } = releaseOrdinals(threeOwners(), [4, 0, 4, 2]);
    expect(released).toEqual([4, 0, 2]);
    expect(Object.fromEntries(releasedByHandle)).toEqual({ a: 1, b: 1, c: 1 });
    expect(block.unallocated.slice(-3)).toEqual([4, 0, 2]);
    expect(block.attributes.map((a) => a.handle_id)).toEqual(['a', 'c']);
    expect(checkBlock(block)).toEqual([]);
  });

  it('reports free ordinals as not allocated instead of failing (idempotent DEL)', () => {
    const before = threeOwners();
    const result = releaseOrdinals(before, [9]);
    expect(result.notAllocated).toEqual([9]);
    expect(result.block).toBe(before);
  });

  it.each([16, -1, 2.5])('rejects ordinal %s outside the block', (ordinal) => {
    expect(() => releaseOrdinals(threeOwners(), [ordinal])).toThrow(
      new OutOfRangeError(`ordinal ${ordinal} is outside block 10.0.0.0/28`),
    );
  });

  it('skips an ordinal whose allocation sequence number changed since the caller looked', () => {
    const before = threeOwners();
    const expected = new Map([
      [0, SEQ],
      [2, SEQ + 999n],
    ]);
    const result = releaseOrdinals(before, [0, 2], { expectedSequenceNumbers: expected });
    expect(result.released).toEqual([0]);
    expect(result.sequenceMismatch).toEqual([2]);
    expect(result.block.allocations[2]).not.toBeNull();
  });

  it('counts addresses without a handle under null', () => {
    const block = newBlock(parseNetwork('fd00::/122'), { affinityNode: null, sequenceNumber: 0n });
    const held = assignSpecific(block, 'fd00::3', { handleId: null }).block;
    expect([...releaseOrdinals(held, [3]).releasedByHandle]).toEqual([[null, 1]]);
  });
});
