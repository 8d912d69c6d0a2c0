import { describe, expect, it } from 'vitest';
import { assignAddresses } from './assign';
import { collectGarbage, requireAllocation, requireCapacity } from './inspect';
import type { MemoryBlockStore } from './memory-block-store';
import { pool, request, store } from './testing/memory-fixtures';

function setup(cidr = '10.20.0.0/24'): MemoryBlockStore {
  return store([pool('p', cidr, { allowedUses: ['Workload'] })], ['node-a', 'node-b']);
}

const req = (handleId: string, node = 'node-a') => request(handleId, { node });

describe('requireAllocation (CHECK)', () => {
  it('passes for a handle with an address and fails with code 116 otherwise', async () => {
    const s = setup();
    await assignAddresses(s, req('net.c1'));
    await expect(requireAllocation(s, 'net.c1')).resolves.toBeUndefined();
    await expect(requireAllocation(s, 'net.c2')).rejects.toMatchObject({
      code: 116,
      message: 'no IP address is allocated for handle net.c2',
    });
  });
});

describe('collectGarbage (GC)', () => {
  it('releases only this node and network handles missing from the valid list', async () => {
    const s = setup();
    await assignAddresses(s, req('net.keep'));
    await assignAddresses(s, req('net.gone'));
    await assignAddresses(s, req('other.gone'));
    await assignAddresses(s, req('net.b', 'node-b'));
    const out = await collectGarbage(s, {
      node: 'node-a',
      network: 'net',
      validHandles: new Set(['net.keep']),
    });
    expect(out.released).toBe(1);
    expect([...s.allHandles().keys()].sort()).toEqual(['net.b', 'net.keep', 'other.gone']);
  });

  it('releases nothing when everything is valid', async () => {
    const s = setup();
    await assignAddresses(s, req('net.keep'));
    const out = await collectGarbage(s, {
      node: 'node-a',
      network: 'net',
      validHandles: new Set(['net.keep']),
    });
    expect(out.released).toBe(0);
    expect(s.allHandles().size).toBe(1);
  });
});

describe('requireCapacity (STATUS)', () => {
  it('passes while a pool has room and gives code 50 once it is full', async () => {
    const s = setup('10.21.0.0/26');
    s.settings = { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
    const status = () =>
      requireCapacity(s, { node: 'node-a', families: [4], requested: { 4: [], 6: [] } });
    await expect(status()).resolves.toBeUndefined();
    for (let i = 0; i < 64; i++) await assignAddresses(s, req(`net.c${i}`));
    await expect(status()).rejects.toMatchObject({
      code: 50,
      message: expect.stringContaining('no free IPv4 address for node node-a') as unknown,
    });
  });

  it('gives code 50 when no pool serves the node', async () => {
    const s = setup();
    await expect(
      requireCapacity(s, { node: 'node-a', families: [6], requested: { 4: [], 6: [] } }),
    ).rejects.toMatchObject({ code: 50 });
  });
});
