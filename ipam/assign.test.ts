import { describe, expect, it } from 'vitest';
import { assignAddresses } from './assign';
import { releaseHandles } from './release';
import { expectConsistent } from './testing/consistency';
import { pool, request, rivalTakesOne, store } from './testing/memory-fixtures';

describe('assignAddresses: affine blocks and claims', () => {
  it('claims a /26 for the first ADD, fills it with 64, then claims a second block', async () => {
    const s = store([pool('pool1', '10.1.0.0/16')]);
    const first = await assignAddresses(s, request('net.c0'));
    expect(first.addresses).toHaveLength(1);
    expect(first.addresses[0]).toMatch(/^10\.1\.\d+\.\d+\/26$/);
    expect(s.affinitiesOf('node-a')).toHaveLength(1);
    // The first address of a new block is its network address, so it spells the block's CIDR.
    const [claimed] = s.allBlocks();
    expect(s.allBlocks()).toHaveLength(1);
    expect(first.addresses).toEqual([claimed?.cidr]);
    expect(claimed?.affinity).toBe('host:node-a');
    expect(s.affinitiesOf('node-a')).toEqual([claimed?.cidr]);

    const seen = new Set(first.addresses);
    for (let i = 1; i < 64; i++) {
      const out = await assignAddresses(s, request(`net.c${i}`));
      expect(out.requests).toBe(3);
      seen.add(out.addresses[0] ?? '');
    }
    expect(seen.size).toBe(64);
    expect(s.affinitiesOf('node-a')).toHaveLength(1);
    const sixtyFifth = await assignAddresses(s, request('net.c64'));
    expect(seen.has(sixtyFifth.addresses[0] ?? '')).toBe(false);
    expect(s.affinitiesOf('node-a')).toHaveLength(2);
    expectConsistent(s);
  });

  it('hands out the network address first, as Calico does', async () => {
    const s = store([pool('p', '10.2.0.0/26')]);
    expect((await assignAddresses(s, request('n.c1'))).addresses).toEqual(['10.2.0.0/26']);
    expect((await assignAddresses(s, request('n.c2'))).addresses).toEqual(['10.2.0.1/26']);
  });

  it('returns the existing address for a repeated ADD of the same handle', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    const first = await assignAddresses(s, request('n.c1'));
    const again = await assignAddresses(s, request('n.c1'));
    expect(again).toMatchObject({ addresses: first.addresses, existing: true });
    expect(s.allHandles().get('n.c1')).toEqual({
      block: { [s.affinitiesOf('node-a')[0] ?? '']: 1 },
    });
  });

  it('registers a missing Node in the same commit', async () => {
    const s = store([pool('p', '10.2.0.0/24')], []);
    await assignAddresses(s, request('n.c1', { node: 'fresh' }));
    expect((await s.readHost('fresh', { handleIds: [] })).node?.value.labels).toEqual({});
  });

  it('skips disabled pools, tunnel-only pools and pools whose selector excludes the node', async () => {
    const s = store([
      pool('a-disabled', '10.3.0.0/24', { disabled: true }),
      pool('b-tunnel', '10.4.0.0/24', { allowedUses: ['Tunnel'] }),
      pool('c-other', '10.5.0.0/24', { nodeSelector: "zone == 'b'" }),
      pool('d-ok', '10.6.0.0/24', { nodeSelector: '!has(edge)' }),
    ]);
    expect((await assignAddresses(s, request('n.c1'))).addresses[0]).toMatch(/^10\.6\./);
  });

  it('uses requested pools by name or CIDR in the given order and names an unknown one', async () => {
    const s = store([pool('a', '10.7.0.0/24'), pool('b', '10.8.0.0/24')]);
    expect((await assignAddresses(s, request('n.c1', { ipv4Pools: ['b'] }))).addresses[0]).toMatch(
      /^10\.8\./,
    );
    expect(
      (await assignAddresses(s, request('n.c2', { ipv4Pools: ['10.7.0.0/24'] }))).addresses[0],
    ).toMatch(/^10\.7\./);
    await expect(
      assignAddresses(s, request('n.c3', { ipv4Pools: ['192.169.1.0/24'] })),
    ).rejects.toMatchObject({
      code: 113,
      message: expect.stringContaining('the given pool (192.169.1.0/24) does not exist') as unknown,
    });
  });

  it('says so when no pool selects the node', async () => {
    const s = store([pool('a', '10.7.0.0/24', { nodeSelector: "zone == 'x'" })]);
    await expect(assignAddresses(s, request('n.c1'))).rejects.toMatchObject({ code: 114 });
    expect(s.allBlocks()).toEqual([]);
  });

  it('skips reserved addresses', async () => {
    const s = store([pool('p', '10.9.0.0/26')]);
    s.reservedCidrs = ['10.9.0.0/30'];
    expect((await assignAddresses(s, request('n.c1'))).addresses).toEqual(['10.9.0.4/26']);
  });
});

describe('assignAddresses: dual stack', () => {
  it('assigns one IPv4 and one IPv6 address in one commit', async () => {
    const s = store([pool('v4', '10.10.0.0/16'), pool('v6', 'fd00:10::/64')]);
    const out = await assignAddresses(s, request('n.c1', { ipv6: true }));
    expect(out.addresses).toHaveLength(2);
    expect(out.addresses[0]).toMatch(/^10\.10\..*\/26$/);
    expect(out.addresses[1]).toMatch(/^fd00:10::.*\/122$/);
    expect(Object.keys(s.allHandles().get('n.c1')?.block ?? {})).toHaveLength(2);
    expectConsistent(s);
  });

  it('assigns nothing when the IPv6 half cannot be had', async () => {
    const s = store([pool('v4', '10.10.0.0/16')]);
    await expect(assignAddresses(s, request('n.c1', { ipv6: true }))).rejects.toMatchObject({
      code: 114,
    });
    expect(s.allBlocks()).toEqual([]);
    expect(s.allHandles().size).toBe(0);
  });
});

describe('assignAddresses: specific IP', () => {
  it('grants an address once, refuses it the second time and grants it again after release', async () => {
    const s = store([pool('p', '10.11.0.0/16')]);
    expect(
      (await assignAddresses(s, request('n.c1', { specificIp: '10.11.3.7' }))).addresses,
    ).toEqual(['10.11.3.7/32']);
    await expect(
      assignAddresses(s, request('n.c2', { specificIp: '10.11.3.7' })),
    ).rejects.toMatchObject({
      code: 112,
      message: expect.stringContaining('Address already assigned in block') as unknown,
    });
    await releaseHandles(s, ['n.c1']);
    expect(
      (await assignAddresses(s, request('n.c2', { specificIp: '10.11.3.7' }))).addresses,
    ).toEqual(['10.11.3.7/32']);
    expectConsistent(s);
  });

  it('names an address outside every enabled pool', async () => {
    const s = store([pool('p', '10.11.0.0/16')]);
    await expect(
      assignAddresses(s, request('n.c1', { specificIp: '10.12.0.1' })),
    ).rejects.toMatchObject({
      code: 111,
      message: 'The provided IP address is not in a configured pool: 10.12.0.1',
    });
  });

  it('refuses an address in a block affine to another node under strict affinity', async () => {
    const s = store([pool('p', '10.13.0.0/26')], ['node-a', 'node-b']);
    await assignAddresses(s, request('n.c1', { node: 'node-b' }));
    s.settings = { ...s.settings, strictAffinity: true };
    await expect(
      assignAddresses(s, request('n.c2', { specificIp: '10.13.0.9' })),
    ).rejects.toMatchObject({ code: 115 });
  });
});

describe('assignAddresses: limits, strict affinity and borrowing', () => {
  it('with strict affinity, a node without a block of its own gets a clear exhaustion error', async () => {
    const s = store([pool('p', '10.14.0.0/26')], ['node-a', 'node-b']);
    s.settings = { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 };
    await assignAddresses(s, request('n.c1'));
    await expect(assignAddresses(s, request('n.c2', { node: 'node-b' }))).rejects.toMatchObject({
      code: 110,
      message: expect.stringContaining(
        'No more free affine blocks and strict affinity enabled',
      ) as unknown,
    });
  });

  it('without strict affinity, a node borrows from a block of another node', async () => {
    const s = store([pool('p', '10.14.0.0/26')], ['node-a', 'node-b']);
    await assignAddresses(s, request('n.c1'));
    const borrowed = await assignAddresses(s, request('n.c2', { node: 'node-b' }));
    expect(borrowed.addresses).toEqual(['10.14.0.1/26']);
    expect(s.affinitiesOf('node-b')).toEqual([]);
    expectConsistent(s);
  });

  it('at the per-host block limit it borrows instead of failing (calico#4861), or fails when strict', async () => {
    const s = store([pool('p', '10.15.0.0/25')], ['node-a', 'node-b']);
    s.settings = { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 1 };
    await assignAddresses(s, request('b.c1', { node: 'node-b' }));
    for (let i = 0; i < 64; i++) await assignAddresses(s, request(`a.c${i}`));
    const extra = await assignAddresses(s, request('a.extra'));
    expect(s.affinitiesOf('node-a')).toHaveLength(1);
    expect(extra.addresses[0]).toMatch(/\/26$/);
    s.settings = { ...s.settings, strictAffinity: true };
    await expect(assignAddresses(s, request('a.more'))).rejects.toMatchObject({
      message: expect.stringContaining('per host block limit (1 blocks)') as unknown,
    });
  });

  it('reports exhaustion naming the pools when every address is taken', async () => {
    const s = store([pool('p', '10.16.0.0/26', { blockSize: 28 })]);
    for (let i = 0; i < 64; i++) await assignAddresses(s, request(`n.c${i}`));
    await expect(assignAddresses(s, request('n.last'))).rejects.toMatchObject({
      code: 110,
      message: expect.stringContaining('No IPs available in pools: [10.16.0.0/26]') as unknown,
    });
    expectConsistent(s);
  });
});

describe('assignAddresses: concurrency', () => {
  it('retries when another writer wins the race and never hands out an address twice', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    await assignAddresses(s, request('n.c0'));
    const [cidr] = s.affinitiesOf('node-a');
    let commits = 0;
    s.beforeCommit = () => {
      commits++;
      if (commits > 1) return;
      // A rival process takes the next free address of the same block just before our commit.
      void rivalTakesOne(s, cidr);
    };
    const out = await assignAddresses(s, request('n.c1'));
    expect(commits).toBe(3); // ours (lost), the rival's, ours again
    // Ordinals 0 (n.c0) and 1 (the rival) are gone: we get ordinal 2 of the same block.
    const octets = (cidr ?? '').split('/')[0]?.split('.') ?? [];
    expect(out.addresses).toEqual([`${octets.slice(0, 3).join('.')}.${Number(octets[3]) + 2}/26`]);
    expect([...s.allHandles().keys()].sort()).toEqual(['n.c0', 'n.c1', 'n.rival']);
    expectConsistent(s);
  });
});

describe('block claim cost', () => {
  it('costs the same round trips with 10 or 10,000 blocks owned by other nodes', async () => {
    const costs: number[] = [];
    for (const others of [10, 10_000]) {
      const s = store([pool('big', '10.0.0.0/8')], ['node-a']);
      // Other nodes' blocks where their own hashed walks would put them.
      for (let i = 0; i < others; i++) {
        const name = `other-${i}`;
        s.setNode(name);
        await assignAddresses(s, request(`o.${i}`, { node: name }));
      }
      const before = s.requests;
      const out = await assignAddresses(s, request('n.c1'));
      expect(out.addresses).toHaveLength(1);
      costs.push(s.requests - before);
    }
    expect(costs[0]).toBe(3);
    expect(costs[1]).toBe(costs[0]);
  }, 120_000);
});
