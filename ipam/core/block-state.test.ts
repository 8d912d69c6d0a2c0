import { describe, expect, it } from 'vitest';
import { checkBlock } from './block-check';
import { affinityNode, blockCidr, hostAffinity, newBlock } from './block-state';
import { parseNetwork, type Cidr } from './cidr';
import { InvalidAddressError, InvalidBlockSizeError } from './errors';

const created = (cidr: string) =>
  newBlock(parseNetwork(cidr), { affinityNode: 'node-1', sequenceNumber: 1700000000123456789n });

describe('newBlock', () => {
  it.each([
    ['10.0.0.64/26', 64],
    ['10.0.0.9/32', 1],
    ['10.0.16.0/20', 4096],
    ['fd80:24e2:f998:72d6::40/122', 64],
    ['fd00::7/128', 1],
    ['fd00::1000/116', 4096],
  ])('%s starts with %i free ordinals in order, the network address first', (cidr, size) => {
    const block = created(cidr);
    expect(block.cidr).toBe(cidr);
    expect(block.allocations).toHaveLength(size);
    expect(block.allocations.every((a) => a === null)).toBe(true);
    expect(block.unallocated).toEqual(Array.from({ length: size }, (_, i) => i));
    expect(block.attributes).toEqual([]);
    expect(block.sequenceNumberForAllocation).toEqual({});
    expect(checkBlock(block)).toEqual([]);
  });

  it('keeps a UnixNano sequence number exactly (beyond 2^53) and sets the affinity', () => {
    const block = created('10.0.0.0/26');
    expect(block.sequenceNumber).toBe(1700000000123456789n);
    expect(block.affinity).toBe('host:node-1');
    const unowned = newBlock(parseNetwork('10.0.0.0/26'), {
      affinityNode: null,
      sequenceNumber: 0n,
    });
    expect(unowned.affinity).toBeNull();
  });

  it('writes the CIDR in canonical form', () => {
    expect(created('FD00:0:0:0::40/122').cidr).toBe('fd00::40/122');
  });

  it('refuses sizes outside 20–32 / 116–128 and CIDRs with host bits', () => {
    expect(() => created('10.0.0.0/19')).toThrow(
      new InvalidBlockSizeError('block 10.0.0.0/19 has size /19, outside 20–32 for IPv4'),
    );
    expect(() => created('fd00::/115')).toThrow(InvalidBlockSizeError);
    const hostBits: Cidr = { family: 4, base: 0x0a000001n, prefix: 26 };
    expect(() => newBlock(hostBits, { affinityNode: null, sequenceNumber: 0n })).toThrow(
      InvalidAddressError,
    );
  });
});

describe('affinity helpers', () => {
  it('builds and reads host affinities and ignores other kinds', () => {
    expect(hostAffinity('node-1')).toBe('host:node-1');
    const block = created('10.0.0.0/26');
    expect(affinityNode(block)).toBe('node-1');
    expect(affinityNode({ ...block, affinity: null })).toBeNull();
    expect(affinityNode({ ...block, affinity: 'virtual:vm-1' })).toBeNull();
    expect(affinityNode({ ...block, affinity: 'host:' })).toBe('');
  });

  it('parses the block CIDR and names a bad one', () => {
    expect(blockCidr({ cidr: '10.0.0.64/26' })).toEqual({
      family: 4,
      base: 0x0a000040n,
      prefix: 26,
    });
    expect(() => blockCidr({ cidr: '10.0.0.65/26' })).toThrow(
      'block CIDR 10.0.0.65/26 has host bits set (the network is 10.0.0.64/26)',
    );
  });
});
