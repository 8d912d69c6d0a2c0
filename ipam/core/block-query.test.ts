import { describe, expect, it } from 'vitest';
import { assignFromBlock, assignSpecific } from './block-assign';
import {
  allocationOf,
  countsByHandle,
  freeCount,
  isBlockEmpty,
  ordinalsOfHandle,
} from './block-query';
import { newBlock, type BlockState } from './block-state';
import { parseNetwork } from './cidr';
import { OutOfRangeError } from './errors';

function sample(): BlockState {
  let block = newBlock(parseNetwork('fd00::40/122'), { affinityNode: 'n', sequenceNumber: 7n });
  block = assignFromBlock(block, { count: 2, handleId: 'a', attributes: { pod: 'p' } }).block;
  block = assignSpecific(block, 'fd00::7f', { handleId: 'b' }).block;
  return assignFromBlock(block, { count: 1, handleId: null }).block;
}

describe('block queries', () => {
  it('counts free addresses, excluding reserved ones', () => {
    expect(freeCount(sample())).toBe(60);
    expect(freeCount(sample(), { reservedOrdinals: new Set([0, 5, 6]) })).toBe(58);
    expect(freeCount(sample(), { reservedOrdinals: new Set() })).toBe(60);
  });

  it('is empty only with no allocations at all', () => {
    const block = newBlock(parseNetwork('10.0.0.0/26'), { affinityNode: null, sequenceNumber: 0n });
    expect(isBlockEmpty(block)).toBe(true);
    expect(isBlockEmpty(sample())).toBe(false);
  });

  it('lists a handle’s ordinals and the counts per handle', () => {
    expect(ordinalsOfHandle(sample(), 'a')).toEqual([0, 1]);
    expect(ordinalsOfHandle(sample(), 'b')).toEqual([63]);
    expect(ordinalsOfHandle(sample(), 'zz')).toEqual([]);
    expect(Object.fromEntries(countsByHandle(sample()))).toEqual({ a: 2, b: 1, null: 1 });
    expect(countsByHandle(sample()).get(null)).toBe(1);
  });

  it('tells who holds an address, with its allocation sequence number', () => {
    expect(allocationOf(sample(), 'fd00::41')).toEqual({
      ordinal: 1,
      handleId: 'a',
      secondary: { pod: 'p' },
      sequenceNumber: 7n,
    });
    expect(allocationOf(sample(), 'fd00::7f')?.sequenceNumber).toBe(8n);
    expect(allocationOf(sample(), 'fd00::50')).toBeNull();
    expect(() => allocationOf(sample(), 'fd00::80')).toThrow(OutOfRangeError);
  });
});
