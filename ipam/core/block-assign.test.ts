import { describe, expect, it } from 'vitest';
import { assignFromBlock, assignSpecific } from './block-assign';
import { checkBlock } from './block-check';
import { newBlock, type BlockState } from './block-state';
import { parseNetwork } from './cidr';
import {
  AddressInUseError,
  AddressReservedError,
  InconsistentBlockError,
  OutOfRangeError,
} from './errors';
import { formatIp } from './ip-address';
import { deepFreeze } from './test-support';

const SEQ = 1700000000000000000n;
const fresh = (cidr: string): BlockState =>
  deepFreeze(newBlock(parseNetwork(cidr), { affinityNode: 'node-1', sequenceNumber: SEQ }));
const pod = {
  node: 'node-1',
  timestamp: '2024-01-02 03:04:05 +0000 UTC',
  pod: 'p',
  namespace: 'ns',
};

describe('assignFromBlock', () => {
  it('hands out the network address first and shares one attribute entry per call', () => {
    const before = fresh('10.0.0.64/26');
    const { block, ordinals, addresses } = assignFromBlock(before, {
      count: 3,
      handleId: 'net.abc',
      attributes: pod,
    });
    expect(ordinals).toEqual([0, 1, 2]);
    expect(addresses.map(formatIp)).toEqual(['10.0.0.64', '10.0.0.65', '10.0.0.66']);
    expect(block.allocations.slice(0, 4)).toEqual([0, 0, 0, null]);
    expect(block.attributes).toEqual([{ handle_id: 'net.abc', secondary: pod }]);
    expect(block.unallocated[0]).toBe(3);
    expect(block.unallocated).toHaveLength(61);
    expect(checkBlock(block)).toEqual([]);
    expect(before.unallocated).toHaveLength(64);
  });

  it('records the sequence number it read and bumps the block’s', () => {
    const { block } = assignFromBlock(fresh('10.0.0.0/26'), { count: 2, handleId: 'h' });
    expect(block.sequenceNumber).toBe(SEQ + 1n);
    expect(block.sequenceNumberForAllocation).toEqual({ '0': SEQ, '1': SEQ });
    const second = assignFromBlock(block, { count: 1, handleId: 'h' }).block;
    expect(second.sequenceNumberForAllocation['2']).toBe(SEQ + 1n);
    expect(second.sequenceNumber).toBe(SEQ + 2n);
  });

  it('reuses an identical {handle, secondary} entry and adds one for a different owner', () => {
    const one = assignFromBlock(fresh('10.0.0.0/26'), { count: 1, handleId: 'a', attributes: pod });
    const two = assignFromBlock(deepFreeze(one.block), {
      count: 1,
      handleId: 'a',
      attributes: { ...pod },
    });
    expect(two.block.attributes).toHaveLength(1);
    expect(two.block.allocations.slice(0, 2)).toEqual([0, 0]);
    const three = assignFromBlock(deepFreeze(two.block), {
      count: 1,
      handleId: 'a',
      attributes: { ...pod, pod: 'q' },
    });
    expect(three.block.attributes).toHaveLength(2);
    expect(three.block.allocations.slice(0, 3)).toEqual([0, 0, 1]);
  });

  it('skips reserved ordinals and leaves them queued at the head', () => {
    const { block, ordinals } = assignFromBlock(fresh('10.0.0.0/26'), {
      count: 2,
      handleId: 'h',
      reservedOrdinals: new Set([0, 1, 3]),
    });
    expect(ordinals).toEqual([2, 4]);
    expect(block.unallocated.slice(0, 4)).toEqual([0, 1, 3, 5]);
  });

  it('returns what is left when fewer are free, and nothing from a full block', () => {
    const { block, ordinals } = assignFromBlock(fresh('10.0.0.9/32'), {
      count: 2,
      handleId: 'h',
    });
    expect(ordinals).toEqual([0]);
    const full = deepFreeze(block);
    const again = assignFromBlock(full, { count: 1, handleId: 'h' });
    expect(again.ordinals).toEqual([]);
    expect(again.block).toBe(full);
  });

  it.each([
    ['fd80:24e2:f998:72d6::40/122', 'fd80:24e2:f998:72d6::40', 63],
    ['fd00::7/128', 'fd00::7', 0],
    ['10.0.16.0/20', '10.0.16.0', 4095],
    ['10.0.0.9/32', '10.0.0.9', 0],
  ])('in %s the first address is %s and %i stay free', (cidr, first, left) => {
    const { block, addresses } = assignFromBlock(fresh(cidr), { count: 1, handleId: null });
    expect(addresses.map(formatIp)).toEqual([first]);
    expect(block.unallocated).toHaveLength(left);
    expect(block.attributes).toEqual([{ handle_id: null, secondary: null }]);
  });

  it.each([0, -1, 1.5])('rejects count %s', (count) => {
    expect(() => assignFromBlock(fresh('10.0.0.0/26'), { count, handleId: 'h' })).toThrow(
      new OutOfRangeError(`address count ${count} must be a positive integer`),
    );
  });

  it('refuses to hand out an ordinal that is queued but still allocated', () => {
    const { block } = assignFromBlock(fresh('10.0.0.0/26'), { count: 1, handleId: 'h' });
    const corrupt = deepFreeze({ ...block, unallocated: [0, ...block.unallocated] });
    expect(() => assignFromBlock(corrupt, { count: 1, handleId: 'x' })).toThrow(
      InconsistentBlockError,
    );
  });
});

describe('assignSpecific', () => {
  it('takes the address out of the middle of the queue', () => {
    const { block, ordinals, addresses } = assignSpecific(fresh('10.0.0.64/26'), '10.0.0.100', {
      handleId: 'h',
    });
    expect(ordinals).toEqual([36]);
    expect(addresses.map(formatIp)).toEqual(['10.0.0.100']);
    expect(block.unallocated).not.toContain(36);
    expect(block.unallocated).toHaveLength(63);
    expect(block.allocations[36]).toBe(0);
    expect(checkBlock(block)).toEqual([]);
  });

  it('says "Address already assigned in block" with the IP and block', () => {
    const { block } = assignSpecific(fresh('10.0.0.64/26'), '10.0.0.100', { handleId: 'h' });
    expect(() => assignSpecific(deepFreeze(block), '10.0.0.100', { handleId: 'other' })).toThrow(
      new AddressInUseError(
        'Address already assigned in block (ip 10.0.0.100, block 10.0.0.64/26)',
      ),
    );
  });

  it('refuses a reserved address, one outside the block, and a free one missing from the queue', () => {
    const block = fresh('fd00::/122');
    expect(() =>
      assignSpecific(block, 'fd00::1', { handleId: 'h', reservedOrdinals: new Set([1]) }),
    ).toThrow(AddressReservedError);
    expect(() => assignSpecific(block, 'fd00::40', { handleId: 'h' })).toThrow(
      'fd00::40 is not in block fd00::/122',
    );
    const lost = deepFreeze({ ...block, unallocated: block.unallocated.filter((o) => o !== 5) });
    expect(() => assignSpecific(lost, 'fd00::5', { handleId: 'h' })).toThrow(
      'block fd00::/122 is inconsistent: ordinal 5 is neither allocated nor free',
    );
  });

  it('assigns the only address of a /128 block', () => {
    const { block } = assignSpecific(fresh('fd00::7/128'), 'fd00::7', { handleId: 'h' });
    expect(block.unallocated).toEqual([]);
    expect(block.allocations).toEqual([0]);
  });
});
