import { expect } from 'vitest';
import { checkBlock } from '../core';
import type { MemoryBlockStore } from '../memory-block-store';

/** Every block passes checkBlock, and handle counts equal the addresses their blocks hold. */
export function expectConsistent(s: MemoryBlockStore): void {
  for (const block of s.allBlocks()) expect(checkBlock(block)).toEqual([]);
  const counted = new Map<string, number>();
  for (const block of s.allBlocks()) {
    block.allocations.forEach((a) => {
      if (a === null) return;
      const id = block.attributes[a]?.handle_id ?? 'none';
      counted.set(id, (counted.get(id) ?? 0) + 1);
    });
  }
  const handles = new Map(
    [...s.allHandles()].map(([id, h]) => [id, Object.values(h.block).reduce((x, y) => x + y, 0)]),
  );
  expect(handles).toEqual(counted);
}
