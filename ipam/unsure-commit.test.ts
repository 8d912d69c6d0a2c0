import { describe, expect, it } from 'vitest';
import { unavailable } from '../lib/datastore/errors';
import { assignAddresses } from './assign';
import type { StoreWrite } from './block-store';
import { MemoryBlockStore } from './memory-block-store';
import { releaseHandles } from './release';
import { pool, request, store } from './testing/memory-fixtures';

// A commit whose connection breaks after etcd applied it (or before): the allocator must find out
// which, rather than report failure for an allocation that exists or success for one that doesn't.

type Fault = 'applied' | 'lost';

/** Makes the next commits fail with Unavailable, after applying them or without. */
function breakCommits(s: MemoryBlockStore, faults: Fault[]): { commits: number } {
  const seen = { commits: 0 };
  const commit = s.commit.bind(s);
  s.commit = async (writes: readonly StoreWrite[]): Promise<number | undefined> => {
    seen.commits++;
    const fault = faults.shift();
    if (fault === 'lost') throw unavailable(['http://127.0.0.1:1'], 'connection reset');
    const ok = await commit(writes);
    if (fault === 'applied') throw unavailable(['http://127.0.0.1:1'], 'socket hang up');
    return ok;
  };
  return seen;
}

/** Makes the next reads fail with Unavailable (etcd still away). */
function breakReads(s: MemoryBlockStore, count: number, budgetSpentAt?: number): void {
  const readHost = s.readHost.bind(s);
  const readHandles = s.readHandles.bind(s);
  let failed = 0;
  const fail = (): void => {
    if (failed >= count) return;
    failed++;
    throw unavailable(['http://127.0.0.1:1'], 'ECONNREFUSED', {
      budgetSpent: budgetSpentAt !== undefined && failed >= budgetSpentAt,
    });
  };
  s.readHost = (node, options) => {
    fail();
    return readHost(node, options);
  };
  s.readHandles = (ids, options) => {
    fail();
    return readHandles(ids, options);
  };
}

function allocated(s: MemoryBlockStore): number {
  return s.allBlocks().reduce((n, b) => n + b.allocations.filter((a) => a !== null).length, 0);
}

describe('a commit of unknown outcome', () => {
  it('ADD: applied before the connection broke, the address is reported as new, once', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    const seen = breakCommits(s, ['applied']);
    const out = await assignAddresses(s, request('n.c1'));
    expect(seen.commits).toBe(1);
    expect(out.existing).toBe(false);
    expect(out.addresses).toHaveLength(1);
    expect(allocated(s)).toBe(1);
    expect([...s.allHandles().keys()]).toEqual(['n.c1']);
  });

  it('ADD: lost, it is computed and committed again', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    const seen = breakCommits(s, ['lost']);
    const out = await assignAddresses(s, request('n.c1'));
    expect(seen.commits).toBe(2);
    expect(out.existing).toBe(false);
    expect(allocated(s)).toBe(1);
  });

  it('ADD: waits for etcd to come back before deciding', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    breakCommits(s, ['applied']);
    const first = await assignAddresses(s, request('n.c0'));
    breakCommits(s, ['applied']);
    breakReads(s, 0);
    // Three failed reads after the broken commit: still one allocation for n.c1, reported new.
    let reads = 0;
    const readHost = s.readHost.bind(s);
    s.readHost = (node, options) => {
      reads++;
      if (reads >= 2 && reads <= 4) throw unavailable(['http://127.0.0.1:1'], 'ECONNREFUSED');
      return readHost(node, options);
    };
    const out = await assignAddresses(s, request('n.c1'));
    expect(reads).toBe(5);
    expect(out.existing).toBe(false);
    expect(out.addresses).not.toEqual(first.addresses);
    expect(allocated(s)).toBe(2);
  });

  it('ADD: gives up with Unavailable once the client budget is spent', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    breakCommits(s, ['lost']);
    const readHost = s.readHost.bind(s);
    let reads = 0;
    s.readHost = (node, options) => {
      reads++;
      if (reads === 1) return readHost(node, options);
      throw unavailable(['http://127.0.0.1:1'], 'budget exhausted', { budgetSpent: reads >= 3 });
    };
    await expect(assignAddresses(s, request('n.c1'))).rejects.toMatchObject({
      kind: 'Unavailable',
    });
    expect(reads).toBe(3);
  });

  it('a repeated ADD without a broken commit still reports existing addresses', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    await assignAddresses(s, request('n.c1'));
    expect((await assignAddresses(s, request('n.c1'))).existing).toBe(true);
  });

  it('an Unavailable read before any commit fails at once (nothing was written)', async () => {
    const s = store([pool('p', '10.17.0.0/24')]);
    breakReads(s, 1);
    await expect(assignAddresses(s, request('n.c1'))).rejects.toMatchObject({
      kind: 'Unavailable',
    });
    expect(allocated(s)).toBe(0);
  });

  it('DEL: applied or lost, the handle ends released', async () => {
    for (const fault of ['applied', 'lost'] as const) {
      const s = store([pool('p', '10.17.0.0/24')]);
      await assignAddresses(s, request('n.c1'));
      const seen = breakCommits(s, [fault]);
      await releaseHandles(s, ['n.c1']);
      expect(seen.commits).toBe(fault === 'applied' ? 1 : 2);
      expect(allocated(s)).toBe(0);
      expect(s.allHandles().size).toBe(0);
    }
  });
});
