import { describe, expect, it } from 'vitest';
import { assignFromBlock } from './block-assign';
import { checkBlock } from './block-check';
import { newBlock, type BlockState } from './block-state';
import { parseNetwork } from './cidr';

// 10.0.0.0/29: ordinals 0,1 held by attribute 0; 2..7 free.
function healthy(): BlockState {
  const block = newBlock(parseNetwork('10.0.0.0/29'), { affinityNode: 'n', sequenceNumber: 1n });
  return assignFromBlock(block, { count: 2, handleId: 'h' }).block;
}

describe('checkBlock', () => {
  it('finds nothing wrong with a block built by the functions', () => {
    expect(checkBlock(healthy())).toEqual([]);
  });

  const corruptions: [string, (b: BlockState) => BlockState, string][] = [
    [
      'short allocations',
      (b) => ({ ...b, allocations: b.allocations.slice(0, 7) }),
      'allocations has 7 entries, expected 8',
    ],
    [
      'dangling index',
      (b) => ({ ...b, allocations: [5, ...b.allocations.slice(1)] }),
      'ordinal 0 points at attribute 5, which does not exist',
    ],
    [
      'duplicate free',
      (b) => ({ ...b, unallocated: [...b.unallocated, 2] }),
      'ordinal 2 is in unallocated more than once',
    ],
    [
      'allocated and free',
      (b) => ({ ...b, unallocated: [...b.unallocated, 0] }),
      'ordinal 0 is in unallocated but allocated',
    ],
    [
      'lost ordinal',
      (b) => ({ ...b, unallocated: b.unallocated.slice(1) }),
      'ordinal 2 is neither allocated nor in unallocated',
    ],
    [
      'out of range',
      (b) => ({ ...b, unallocated: [...b.unallocated, 8] }),
      'unallocated holds 8, outside 0–7',
    ],
    [
      'unused attribute',
      (b) => ({ ...b, attributes: [...b.attributes, { handle_id: 'x' }] }),
      'attribute 1 is not used by any allocation',
    ],
    [
      'stale sequence',
      (b) => ({ ...b, sequenceNumberForAllocation: { ...b.sequenceNumberForAllocation, '5': 1n } }),
      'sequenceNumberForAllocation has 5, which is not an allocated ordinal',
    ],
    [
      'host bits',
      (b) => ({ ...b, cidr: '10.0.0.1/29' }),
      'block CIDR 10.0.0.1/29 has host bits set (the network is 10.0.0.0/29)',
    ],
    [
      'bad size',
      (b) => ({ ...b, cidr: '10.0.0.0/19' }),
      'block 10.0.0.0/19 has size /19, outside 20–32 for IPv4',
    ],
  ];
  it.each(corruptions)('reports %s', (_, corrupt, problem) => {
    expect(checkBlock(corrupt(healthy()))).toContain(problem);
  });
});
