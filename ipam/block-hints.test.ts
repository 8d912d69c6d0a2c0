import { describe, expect, it } from 'vitest';
import { assignAddresses } from './assign';
import { blockHints, firstReadBlocks } from './block-hints';
import { pool, request, store } from './testing/memory-fixtures';

// Block hints ride in the first read: a right guess spares the blocks' round trip, a wrong one
// changes nothing but the keys read.

describe('blockHints', () => {
  it('gives the /26 of each IPv4 pod address once, skipping what is not IPv4', () => {
    expect(blockHints(['10.1.224.197', '10.1.224.193', '10.1.3.7', 'fd00::1', 'x'])).toEqual([
      '10.1.224.192/26',
      '10.1.3.0/26',
    ]);
  });

  it('stops at the default per-host block limit', () => {
    const many = Array.from({ length: 50 }, (_, i) => `10.2.${i}.1`);
    expect(blockHints(many)).toHaveLength(20);
  });
});

describe('firstReadBlocks', () => {
  it('takes the handed-over blocks and does not make the guess at all', () => {
    let guessed = 0;
    const guess = () => {
      guessed++;
      return ['10.9.0.0/26'];
    };
    expect(firstReadBlocks(['10.1.0.0/26'], guess)).toEqual(['10.1.0.0/26']);
    expect(guessed).toBe(0);
    expect(firstReadBlocks([], guess)).toEqual(['10.9.0.0/26']);
    expect(guessed).toBe(1);
    expect(firstReadBlocks([], undefined)).toEqual([]);
  });
});

describe('assignAddresses with block hints', () => {
  const hinted = (hints: string[]) => ({ blockHints: () => hints });

  it('reads the hinted affine block with the host view: 2 round trips instead of 3', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const first = await assignAddresses(s, request('net.c0'));
    const block = s.affinitiesOf('node-a')[0] ?? '';
    s.requests = 0;
    const second = await assignAddresses(s, request('net.c1', hinted([block])));
    expect(second.requests).toBe(2);
    expect(s.requests).toBe(2);
    // Another address of the same block: the hinted read is the block the commit compared.
    expect(second.addresses[0]).not.toBe(first.addresses[0]);
    expect(s.allBlocks()).toHaveLength(1);
    expect(s.allBlocks()[0]?.allocations.filter((a) => a !== null)).toHaveLength(2);
    s.requests = 0;
    const plain = await assignAddresses(s, request('net.c2'));
    expect(plain.requests).toBe(3);
    expect(s.requests).toBe(3);
  });

  it('misses harmlessly: a wrong hint costs the round trip it would have saved, nothing else', async () => {
    const s = store([pool('pool1', '10.1.0.0/16', { blockSize: 24 })]);
    await assignAddresses(s, request('net.c0'));
    const [block] = s.affinitiesOf('node-a');
    s.requests = 0;
    // The /26 guess of an address in a /24 pool names a key that does not exist.
    const wrong = `${(block ?? '').split('/')[0] ?? ''}/26`;
    const out = await assignAddresses(s, request('net.c1', hinted([wrong])));
    expect(out.requests).toBe(3);
    expect(out.addresses[0]).toMatch(/\/24$/);
    expect(s.allBlocks()).toHaveLength(1);
  });

  it('an absent hinted block that is a claim candidate is claimed as absent, in one commit', async () => {
    const s = store([pool('pool1', '10.1.0.0/24')]);
    const out = await assignAddresses(s, request('net.c0', hinted(['10.1.0.0/26'])));
    expect(out.addresses).toHaveLength(1);
    expect(s.affinitiesOf('node-a')).toHaveLength(1);
  });

  it("reports the node's blocks, a claimed one included, for the next holder of the host lock", async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const first = await assignAddresses(s, request('net.c0'));
    expect(first.blocks).toEqual(s.affinitiesOf('node-a'));
    expect(first.blocks).toHaveLength(1);
    const next = await assignAddresses(s, request('net.c1', hinted(first.blocks)));
    expect(next.requests).toBe(2);
    expect(next.blocks).toEqual(first.blocks);
  });
});
