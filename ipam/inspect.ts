import { CniError, ErrorCode } from '../lib/cni/errors';
import { Attempt } from './attempt';
import type { BlockStore } from './block-store';
import { handleTotal, newBlock, parseReservedCidr, type IpFamily } from './core';
import { findRoom } from './find-room';
import { usablePools } from './pools';
import { releaseHandles, type ReleaseOutcome } from './release';

/** CHECK: succeeds iff the handle holds at least one address. */
export async function requireAllocation(store: BlockStore, handleId: string): Promise<void> {
  const handle = (await store.readHandles([handleId])).handles.get(handleId);
  if (handle === undefined || handleTotal(handle.value) === 0) {
    throw new CniError(
      ErrorCode.allocationMissing,
      `no IP address is allocated for handle ${handleId}`,
    );
  }
}

/**
 * GC (spec 1.1): releases the addresses this node assigned on `network` whose handle is not among
 * the valid attachments. Only `<network>.<containerID>` handles whose allocation names this node
 * are candidates, so another node's or another network's addresses are never touched (calico#5044:
 * a GC must prove an allocation is dead before releasing it).
 */
export async function collectGarbage(
  store: BlockStore,
  options: { node: string; network: string; validHandles: ReadonlySet<string> },
): Promise<ReleaseOutcome> {
  const prefix = `${options.network}.`;
  const stale = new Set<string>();
  for (const family of [4, 6] as const) {
    for (const { value: block } of await store.listBlocks(family)) {
      for (const attribute of block.attributes) {
        const id = attribute.handle_id;
        if (id === undefined || id === null || !id.startsWith(prefix)) continue;
        if (attribute.secondary?.node !== options.node || options.validHandles.has(id)) continue;
        stale.add(id);
      }
    }
  }
  if (stale.size === 0) return { released: 0, requests: 2 };
  return releaseHandles(store, [...stale]);
}

/**
 * STATUS (spec 1.1): fine when a usable pool has a free address for this node, in its own blocks,
 * a block it may claim, or (strict affinity off) a block it may borrow from; otherwise code 50.
 */
export async function requireCapacity(
  store: BlockStore,
  options: {
    node: string;
    families: readonly IpFamily[];
    requested: Readonly<Record<IpFamily, readonly string[]>>;
  },
): Promise<void> {
  const view = await store.readHost(options.node, { handleIds: [] });
  const attempt = new Attempt(store, view);
  await attempt.fetch(view.affinities.map((a) => a.value.cidr));
  const reserved = view.reservedCidrs.map(parseReservedCidr);
  for (const family of options.families) {
    let pools;
    try {
      pools = usablePools(view, {
        family,
        node: options.node,
        requested: options.requested[family],
      });
    } catch (err) {
      throw new CniError(
        ErrorCode.statusUnavailable,
        err instanceof Error ? err.message : String(err),
      );
    }
    const room = await findRoom(attempt, {
      family,
      pools,
      node: options.node,
      reserved,
      newBlock: (cidr) => newBlock(cidr, { affinityNode: options.node, sequenceNumber: 0n }),
      random: Math.random,
    });
    if (room.kind === 'none') {
      throw new CniError(
        ErrorCode.statusUnavailable,
        `no free IPv${family} address for node ${options.node} in pools [${pools.map((p) => p.spec.cidr).join(', ')}]`,
      );
    }
  }
}
