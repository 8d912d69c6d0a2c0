import { describe, expect, it } from 'vitest';
import { poolGeometry } from './block-geometry';
import { blockWalk, walkStartIndex } from './block-walk';
import { formatCidr, parseNetwork } from './cidr';
import { OutOfRangeError } from './errors';
import { fnv1a32 } from './fnv';

const geometry = (pool: string, blockSize: number) => poolGeometry(parseNetwork(pool), blockSize);

describe('fnv1a32', () => {
  // Published FNV-1a test vectors, plus node names and a non-ASCII name (hashed as UTF-8).
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
    ['node-1', 0x54c43383],
    ['nöde', 0x932664eb],
  ])('hashes %j to %i', (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });
});

describe('blockWalk', () => {
  it('starts at FNV-1a(node) mod count, so node-1..node-4 start on different blocks', () => {
    const g = geometry('10.0.0.0/24', 26);
    const starts = ['node-1', 'node-2', 'node-3', 'node-4'].map((n) => walkStartIndex(n, 4n));
    expect(starts).toEqual([3n, 2n, 1n, 0n]);
    expect(blockWalk(g, { nodeName: 'node-2' }).start).toBe(2n);
  });

  it('walks sequentially with wrap-around, each block once', () => {
    const walk = blockWalk(geometry('10.0.0.0/24', 26), { nodeName: 'node-3' });
    expect([...walk].map(formatCidr)).toEqual([
      '10.0.0.64/26',
      '10.0.0.128/26',
      '10.0.0.192/26',
      '10.0.0.0/26',
    ]);
    expect(walk.length).toBe(4n);
    expect(formatCidr(walk.at(3))).toBe('10.0.0.0/26');
  });

  it('takes an explicit start for /32 and /128 blocks, where the caller randomises', () => {
    const walk = blockWalk(geometry('fd00::/120', 128), { nodeName: 'n', startIndex: 255n });
    expect([walk.at(0), walk.at(1)].map(formatCidr)).toEqual(['fd00::ff/128', 'fd00::/128']);
    expect(() =>
      blockWalk(geometry('fd00::/120', 128), { nodeName: 'n', startIndex: 256n }),
    ).toThrow('walk start 256 is outside 0–255');
  });

  it('reads near the start of a 2^58-block IPv6 pool without listing the pool', () => {
    const g = geometry('fd80:24e2:f998:72d6::/64', 122);
    const walk = blockWalk(g, { nodeName: 'node-1' });
    expect(walk.start).toBe(BigInt(0x54c43383));
    expect(formatCidr(walk.at(0))).toBe('fd80:24e2:f998:72d6:0:15:310c:e0c0/122');
    // Iteration is lazy: breaking out after two steps must return at once.
    const first: string[] = [];
    for (const cidr of walk) {
      first.push(formatCidr(cidr));
      if (first.length === 2) break;
    }
    expect(first).toEqual([formatCidr(walk.at(0)), formatCidr(walk.at(1))]);
    expect(formatCidr(walk.at(walk.length - 1n))).toBe('fd80:24e2:f998:72d6:0:15:310c:e080/122');
  });

  it('rejects steps outside the walk', () => {
    const walk = blockWalk(geometry('10.0.0.0/24', 26), { nodeName: 'x' });
    expect(() => walk.at(4)).toThrow(new OutOfRangeError('walk step 4 is outside 0–3'));
    expect(() => walk.at(-1)).toThrow(OutOfRangeError);
  });

  it('has one block and one step for a pool the size of a block', () => {
    const walk = blockWalk(geometry('10.0.0.0/20', 20), { nodeName: 'anything' });
    expect([...walk].map(formatCidr)).toEqual(['10.0.0.0/20']);
  });
});
