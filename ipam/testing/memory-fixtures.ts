import type { AssignRequest } from '../assign';
import type { PoolSpec } from '../block-store';
import { assignFromBlock } from '../core';
import { MemoryBlockStore } from '../memory-block-store';

// Fixtures for the allocator's unit tests on the in-memory store.

/** An enabled, Automatic, all-nodes workload pool (block size 26, or 122 for IPv6). */
export function pool(name: string, cidr: string, extra: Partial<PoolSpec> = {}): PoolSpec {
  return {
    name,
    cidr,
    blockSize: cidr.includes(':') ? 122 : 26,
    disabled: false,
    nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'],
    assignmentMode: 'Automatic',
    ...extra,
  };
}

/** A store with these pools and registered nodes. */
export function store(pools: PoolSpec[], nodes: string[] = ['node-a']): MemoryBlockStore {
  const s = new MemoryBlockStore();
  s.pools = pools;
  for (const n of nodes) s.setNode(n);
  return s;
}

let clock = 1_700_000_000_000_000_000n;

/** One IPv4 address for `handleId` on node-a, with a clock that always moves on. */
export function request(handleId: string, extra: Partial<AssignRequest> = {}): AssignRequest {
  return {
    node: 'node-a',
    handleId,
    ipv4: true,
    ipv6: false,
    ipv4Pools: [],
    ipv6Pools: [],
    now: () => clock++,
    random: () => 0.5,
    ...extra,
  };
}

/**
 * Another writer (a rival process, a DEL, an operator) takes the next free address of `cidr` for
 * the handle `n.rival`, in a commit of its own. The memory store applies it at once.
 */
export function rivalTakesOne(s: MemoryBlockStore, cidr: string | undefined): Promise<unknown> {
  const block = s.allBlocks().find((b) => b.cidr === cidr);
  if (block === undefined || cidr === undefined) throw new Error('no block');
  const rival = assignFromBlock(block, { count: 1, handleId: 'n.rival' });
  return s.commit([
    { kind: 'block', cidr, expect: s.revisionOfBlock(cidr), value: rival.block },
    { kind: 'handle', id: 'n.rival', expect: 0, value: { block: { [cidr]: 1 } } },
  ]);
}
