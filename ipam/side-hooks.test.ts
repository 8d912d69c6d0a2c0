import { describe, expect, it } from 'vitest';
import { assignAddresses } from './assign';
import type { SideHooks, SideValues } from './block-store';
import { unavailable } from '../lib/datastore/errors';
import { readReleaseAhead, releaseHandles } from './release';
import { pool, request, store } from './testing/memory-fixtures';

// calico's WorkloadEndpoint rides in IPAM's first read and its commit (≤ 3 etcd requests per ADD
// and DEL): these prove the ride is atomic with the assignment and the release.

const WEP = '/wep/c1';

function endpointHooks(extra: Partial<SideHooks> = {}): SideHooks & { seen: SideValues[] } {
  const seen: SideValues[] = [];
  return {
    reads: [{ key: WEP }],
    admit: (side) => {
      seen.push(side);
    },
    writes: (side, addresses) => [
      { key: WEP, expect: side.get(WEP)?.revision ?? 0, value: addresses.join(',') },
    ],
    ...extra,
    seen,
  };
}

/** calico DEL's side hooks, reduced: read the endpoint, delete it in the release commit. */
const deleteEndpoint: SideHooks = {
  reads: [{ key: WEP }],
  writes: (side) => [{ key: WEP, expect: side.get(WEP)?.revision ?? 0, value: null }],
};

describe('side keys with an assignment', () => {
  it('writes the endpoint in the assignment commit: 3 requests in all', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    await assignAddresses(s, request('n.c0'));
    s.requests = 0;
    const hooks = endpointHooks();
    const out = await assignAddresses(s, request('n.c1', { side: hooks }));
    expect(s.requests).toBe(3);
    expect(s.side(WEP)).toBe(out.addresses.join(','));
    expect(hooks.seen).toHaveLength(1);
  });

  it('writes nothing, neither address nor endpoint, when admit refuses', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    const refusal = new Error('not ready');
    const hooks = endpointHooks({
      admit: () => {
        throw refusal;
      },
    });
    await expect(assignAddresses(s, request('n.c1', { side: hooks }))).rejects.toBe(refusal);
    expect(s.allBlocks()).toEqual([]);
    expect(s.allHandles().size).toBe(0);
    expect(s.side(WEP)).toBeUndefined();
  });

  it('writes nothing when the gate rejects', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    const gate = Promise.reject(new Error('veth refused'));
    gate.catch(() => undefined);
    await expect(
      assignAddresses(s, request('n.c1', { side: endpointHooks({ gate }) })),
    ).rejects.toThrow('veth refused');
    expect(s.allHandles().size).toBe(0);
    expect(s.side(WEP)).toBeUndefined();
  });

  it('reads the side keys again after another writer changed one, and commits once', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    let raced = false;
    s.beforeCommit = () => {
      if (raced) return;
      raced = true;
      s.setSide(WEP, 'written by another invocation');
    };
    const hooks = endpointHooks();
    const out = await assignAddresses(s, request('n.c1', { side: hooks }));
    expect(hooks.seen).toHaveLength(2);
    expect(hooks.seen[1]?.get(WEP)?.value).toBe('written by another invocation');
    expect(s.side(WEP)).toBe(out.addresses.join(','));
    expect(s.allHandles().get('n.c1')).toBeDefined();
  });

  it('after a commit of unknown outcome, finds its own side write and keeps the address as new', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    const commit = s.commit.bind(s);
    let broken = false;
    s.commit = async (writes) => {
      const ok = await commit(writes);
      if (!broken) {
        broken = true;
        throw unavailable(['http://127.0.0.1:1'], 'socket hang up');
      }
      return ok;
    };
    // As calico's admit: an endpoint written by someone else is a repeated ADD; our own is not.
    const mine = 'written by this ADD';
    const hooks = endpointHooks({
      admit: (side) => {
        const found = side.get(WEP)?.value;
        if (found !== undefined && found !== mine) throw new Error('repeated ADD');
      },
      writes: (side) => [{ key: WEP, expect: side.get(WEP)?.revision ?? 0, value: mine }],
    });
    const out = await assignAddresses(s, request('n.c1', { side: hooks }));
    expect(out.existing).toBe(false);
    expect(out.addresses).toHaveLength(1);
    expect(s.side(WEP)).toBe(mine);
    expect(s.allHandles().get('n.c1')).toBeDefined();
  });

  it('commits the side writes alone for a repeated ADD that keeps its addresses', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    const first = await assignAddresses(s, request('n.c1'));
    const again = await assignAddresses(s, request('n.c1', { side: endpointHooks() }));
    expect(again.existing).toBe(true);
    expect(again.addresses).toEqual(first.addresses);
    expect(s.side(WEP)).toBe(first.addresses.join(','));
  });
});

describe('side keys with a release', () => {
  it('deletes the endpoint in the release commit: 3 requests in all', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    await assignAddresses(s, request('n.c1', { side: endpointHooks() }));
    s.requests = 0;
    const out = await releaseHandles(s, ['n.c1'], { side: deleteEndpoint });
    expect(out.released).toBe(1);
    expect(s.requests).toBe(3);
    expect(s.side(WEP)).toBeUndefined();
    expect(s.allHandles().size).toBe(0);
  });

  it('still deletes the endpoint when there is no handle left to release', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    s.setSide(WEP, 'orphan');
    await releaseHandles(s, ['n.gone'], { side: deleteEndpoint });
    expect(s.side(WEP)).toBeUndefined();
  });
});

describe('a release read ahead (calico DEL reads while its veth goes)', () => {
  it('commits on the reads made ahead: still 3 requests, none after the gate but the commit', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    await assignAddresses(s, request('n.c1', { side: endpointHooks() }));
    s.requests = 0;
    const ahead = await readReleaseAhead(s, ['n.c1'], { side: deleteEndpoint });
    expect(s.requests).toBe(2);
    const out = await releaseHandles(s, ['n.c1'], { side: deleteEndpoint, ahead });
    expect(out.released).toBe(1);
    expect(s.requests).toBe(3);
    expect(s.side(WEP)).toBeUndefined();
    expect(s.allHandles().size).toBe(0);
  });

  it('reads again when the block changed after the reads ahead: nothing lost, nothing kept', async () => {
    const s = store([pool('p', '10.2.0.0/24')]);
    await assignAddresses(s, request('n.c1', { side: endpointHooks() }));
    const ahead = await readReleaseAhead(s, ['n.c1'], { side: deleteEndpoint });
    // Another pod of this node gets an address in the same block meanwhile.
    const other = await assignAddresses(s, request('n.c2'));
    const out = await releaseHandles(s, ['n.c1'], { side: deleteEndpoint, ahead });
    expect(out.released).toBe(1);
    expect(s.allHandles().size).toBe(1);
    expect(s.allHandles().has('n.c2')).toBe(true);
    expect(s.allBlocks().flatMap((b) => b.allocations.filter((a) => a !== null))).toHaveLength(1);
    expect(other.addresses).toHaveLength(1);
  });
});
