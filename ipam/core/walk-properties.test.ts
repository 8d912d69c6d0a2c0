import { describe, expect, it } from 'vitest';
import { blockIndexOf, poolGeometry, type PoolGeometry } from './block-geometry';
import { blockWalk } from './block-walk';
import { networkOf } from './cidr';
import { fnv1a32 } from './fnv';
import { seededRandom, type TestRandom } from './test-support';

// For random pools, block sizes and node names (up to 4096 blocks so the walk can be listed):
// the walk starts at FNV-1a(node) mod count, steps by one with wrap-around, visits every block
// exactly once, and at(k) agrees with iteration.

const NAME_CHARS = Array.from('abcdefghijklmnopqrstuvwxyz0123456789-.é漢');

function randomGeometry(random: TestRandom): PoolGeometry {
  const family = random.pick([4, 6] as const);
  const bits = family === 4 ? 32 : 128;
  const minBlock = family === 4 ? 20 : 116;
  const prefix = bits - 20 + random.int(21);
  const lowest = Math.max(minBlock, prefix);
  const blockSize = lowest + random.int(Math.min(bits, prefix + 12) - lowest + 1);
  let value = 0n;
  for (let i = 0; i < bits / 16; i++) value = (value << 16n) | BigInt(random.int(0x10000));
  return poolGeometry(networkOf({ family, value }, prefix), blockSize);
}

describe('block walk properties', () => {
  it.each(Array.from({ length: 200 }, (_, i) => 0xb10c0000 + i))('seed %i', (seed) => {
    const random = seededRandom(seed);
    const geometry = randomGeometry(random);
    const nodeName = Array.from({ length: random.int(13) }, () => random.pick(NAME_CHARS)).join('');
    const walk = blockWalk(geometry, { nodeName });
    const count = geometry.blockCount;
    expect(walk.start).toBe(BigInt(fnv1a32(nodeName)) % count);
    expect(walk.length).toBe(count);
    const indexes = [...walk].map((cidr) => blockIndexOf(geometry, cidr));
    expect(indexes).toHaveLength(Number(count));
    expect(new Set(indexes).size).toBe(Number(count));
    const sequential = indexes.map((_, k) => (walk.start + BigInt(k)) % count);
    expect(indexes).toEqual(sequential);
    const k = BigInt(random.int(Number(count)));
    expect(blockIndexOf(geometry, walk.at(k))).toBe(indexes[Number(k)]);
  });
});
